// Ledger+Integrity: damage found at open (quick_check), a full check, online backups, and recovery from the backup.
import AblateSupport
import Foundation
import GRDB

extension Ledger {
    /// The backup beside the ledger: `STATE/ledger.backup.sqlite`, replaced atomically by `backup()`.
    public static let backupFileName = "ledger.backup.sqlite"

    /// The advice every "damaged" message ends with.
    static func recoveryHint(_ path: String) -> String {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return "run `ablate ledger recover --state \(directory)` to restore its latest backup"
    }

    /// The problems `PRAGMA quick_check` (or `integrity_check` when `full`) reports; empty when the file is sound.
    /// Each problem is one line (SQLite's rows may span lines, and name the schema first: that header is dropped).
    static func problems(_ db: Database, full: Bool) throws -> [String] {
        let rows = try String.fetchAll(db, sql: full ? "PRAGMA integrity_check(100)" : "PRAGMA quick_check(100)")
        guard rows != ["ok"] else { return [] }
        return rows.flatMap { $0.split(whereSeparator: \.isNewline) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !($0.hasPrefix("***") && $0.hasSuffix("***")) }
    }

    /// Checks the whole file: every page, every index against its table (`PRAGMA integrity_check`) and foreign keys.
    /// Returns the problems found, empty when the ledger is sound.
    public func check() throws -> [String] {
        try read("check integrity") { try Ledger.fullCheck($0) }
    }

    /// `check()` on the ledger of `directory` opened read-only as a plain SQLite file, so a ledger too damaged to
    /// open as a ledger is still checked and its problems listed.
    public static func check(directory: String) throws -> [String] {
        let path = filePath(in: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(
                .missing, path: path, operation: "check",
                message: "no such file; is \(directory) a coordinator state directory?")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { try fullCheck($0) }
        } catch let error as DatabaseError
            where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
        {
            return ["SQLite cannot read it: \(error.message ?? "\(error.resultCode)")"]
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "check")
        }
    }

    private static func fullCheck(_ db: Database) throws -> [String] {
        var problems = try Ledger.problems(db, full: true)
        do {
            let orphans = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            for row in orphans.prefix(20) {
                let table: String = (try? row.decode(String.self, atIndex: 0)) ?? "?"
                let parent: String = (try? row.decode(String.self, atIndex: 2)) ?? "?"
                problems.append("a row of \(table) refers to a missing row of \(parent)")
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            problems.append("the foreign-key check stopped at a malformed page")
        }
        return problems
    }

    /// Writes a consistent copy of the ledger to `DIR/ledger.backup.sqlite` with SQLite's online backup (the
    /// coordinator keeps writing meanwhile): into a temporary file, checked, fsynced, then renamed over the previous
    /// backup, so a crash leaves the previous backup or the new one, never a partial one.
    public func backup() throws {
        let destination = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(
            Ledger.backupFileName
        ).path
        do {
            try AtomicFile.write(to: destination, overwrite: .replace) { temporary in
                let copy = try DatabaseQueue(path: temporary)
                try queue.backup(to: copy)
                // A file of its own, with no WAL beside it (the copy inherits the ledger's WAL mode otherwise).
                _ = try copy.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = DELETE") }
                let problems = try copy.read { try Ledger.problems($0, full: false) }
                try copy.close()
                if let first = problems.first {
                    throw LedgerRefusal(.damaged, "the backup copy fails its check: \(first)")
                }
            }
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "back up to \(destination)")
        }
    }

    /// What `recover(directory:)` did.
    public struct Recovery: Sendable {
        /// Where the damaged ledger (and its WAL) now is.
        public var damagedCopy: String
        /// When the restored backup was last written (its file time).
        public var backupDate: Date
        /// Cells done in the restored ledger.
        public var cellsDone: Int
    }

    /// Replaces a damaged ledger by its backup: the backup must pass a full check; the damaged file and its WAL are
    /// kept as `ledger.damaged-<unix time>.sqlite(-wal)`; the backup is copied in through a temporary file (fsync,
    /// rename). The caller holds the state directory's lock, so no coordinator writes meanwhile. Cells finished after
    /// the backup are pending again in the restored ledger and run again.
    public static func recover(directory: String, now: Date = Date()) throws -> Recovery {
        let path = filePath(in: directory)
        let backup = URL(fileURLWithPath: directory).appendingPathComponent(backupFileName).path
        guard FileManager.default.fileExists(atPath: backup) else {
            throw LedgerError(
                .missing, path: path, operation: "recover", message: "no backup at \(backup); nothing to restore")
        }
        let backupDate = (try? FileManager.default.attributesOfItem(atPath: backup)[.modificationDate] as? Date) ?? now
        let cellsDone: Int
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let copy = try DatabaseQueue(path: backup, configuration: configuration)
            let problems = try copy.read { try Ledger.problems($0, full: true) }
            if let first = problems.first {
                throw LedgerRefusal(.damaged, "the backup \(backup) is damaged too: \(first)")
            }
            cellsDone = try copy.read {
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM cells WHERE state = 'done'") ?? 0
            }
            try copy.close()
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "recover")
        }
        let damaged = URL(fileURLWithPath: directory).appendingPathComponent(
            "ledger.damaged-\(Int(now.timeIntervalSince1970)).sqlite"
        ).path
        do {
            if FileManager.default.fileExists(atPath: path), rename(path, damaged) != 0 {
                throw LedgerRefusal(
                    .database, "cannot move the damaged ledger to \(damaged): \(String(cString: strerror(errno)))")
            }
            for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                if suffix == "-shm" { unlink(path + suffix) } else { rename(path + suffix, damaged + suffix) }
            }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: backup))
            try AtomicFile.write(Array(bytes), to: path, overwrite: .fail)
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "recover")
        }
        return Recovery(damagedCopy: damaged, backupDate: backupDate, cellsDone: cellsDone)
    }
}
