// Ledger+Layout: the ledger's paths inside its state directory made to follow the directory's contents when they move.
import GRDB

extension Ledger {
    /// Before the contents of the state directory move to its subdirectory `moved` (e.g. `sweeps/depth`), in one
    /// transaction: each artifact path that starts with one of `prefixes` (absolute spellings of the directory)
    /// becomes relative to it (the rest of the path), and each path under a prefix in the recorded sweep text gets
    /// `moved/` inserted after the prefix (unless it has it already). Both are idempotent. Returns how many
    /// artifact paths and sweep texts changed.
    @discardableResult
    func relocatePaths(inside prefixes: [String], movingTo moved: String) throws -> Int {
        try write("make artifact paths relative") { try Ledger.relocatePaths($0, inside: prefixes, movingTo: moved) }
    }

    /// `relocatePaths(inside:movingTo:)` in an open transaction of `db` (a ledger or a backup of one).
    static func relocatePaths(_ db: Database, inside prefixes: [String], movingTo moved: String) throws -> Int {
        var changed = 0
        for row in try Row.fetchAll(db, sql: "SELECT sha256, path FROM artifacts") {
            let sha256: String = row["sha256"]
            let path: String = row["path"]
            guard let relative = relativePath(path, inside: prefixes) else { continue }
            try db.execute(sql: "UPDATE artifacts SET path = ? WHERE sha256 = ?", arguments: [relative, sha256])
            changed += 1
        }
        if let text = try String.fetchOne(db, sql: "SELECT sweep_text FROM meta WHERE id = 1") {
            let relocated = relocatedText(text, inside: prefixes, movingTo: moved)
            if relocated != text {
                try db.execute(sql: "UPDATE meta SET sweep_text = ? WHERE id = 1", arguments: [relocated])
                changed += 1
            }
        }
        return changed
    }

    /// `path` without the first of `prefixes` it lies under (and the `/` after it); nil when it lies under none.
    static func relativePath(_ path: String, inside prefixes: [String]) -> String? {
        for prefix in prefixes {
            let base = prefix.hasSuffix("/") ? prefix : prefix + "/"
            if path.hasPrefix(base), path.count > base.count { return String(path.dropFirst(base.count)) }
        }
        return nil
    }

    /// `text` with `moved/` inserted after each `PREFIX/` that starts a path (at the start of the text or after a
    /// character that cannot be part of a path) and is not followed by `moved/` already.
    static func relocatedText(_ text: String, inside prefixes: [String], movingTo moved: String) -> String {
        var result = Array(text.utf8)
        let insert = Array((moved.hasSuffix("/") ? moved : moved + "/").utf8)
        for prefix in prefixes {
            let base = Array((prefix.hasSuffix("/") ? prefix : prefix + "/").utf8)
            var output: [UInt8] = []
            var index = 0
            while index < result.count {
                let starts =
                    result[index...].starts(with: base) && (index == 0 || !isPathByte(result[index - 1]))
                guard starts else {
                    output.append(result[index])
                    index += 1
                    continue
                }
                output += base
                index += base.count
                if !result[index...].starts(with: insert) { output += insert }
            }
            result = output
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "-"), 0x80...0xFF:
            return true
        default:
            return false
        }
    }
}
