// InputManifest: a directory input's canonical list of files (path, size, executable bit, SHA-256) and its rules.
import AblateSupport
import Foundation

/// One file of a directory input.
public struct InputManifestEntry: Sendable, Equatable {
    /// Relative to the directory, components separated by `/` (see `InputManifest.pathProblem`).
    public var path: String
    public var size: Int64
    /// The owner's execute bit: the file is materialised mode 0555 instead of 0444.
    public var executable: Bool
    public var sha256: String

    public init(path: String, size: Int64, executable: Bool, sha256: String) {
        self.path = path
        self.size = size
        self.executable = executable
        self.sha256 = sha256
    }
}

/// Why a manifest (or a directory made into one) cannot be used; the text is one line.
public struct InputManifestError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The files of a directory input in their canonical form (docs/protocol.md, "Inputs"): the line
/// `ablate-input-manifest 1`, then one line per file, `<sha256> <size> <x|-> <path>`, sorted by the path's UTF-8
/// bytes, every line ending in `\n`. The directory's content hash is the SHA-256 of this text, so the same tree
/// gives the same hash whatever order its files were made in, and a changed byte, name or execute bit gives another.
/// Only regular files are listed: empty directories are not part of an input.
public struct InputManifest: Sendable, Equatable {
    /// The first line (without its newline).
    public static let header = "ablate-input-manifest 1"
    /// Most files a directory input may hold.
    public static let maximumFiles = 10_000
    /// Longest path in a directory input, in UTF-8 bytes.
    public static let maximumPathBytes = 1024
    /// Longest path component, in UTF-8 bytes.
    public static let maximumComponentBytes = 255
    /// Most bytes a directory input's files may hold together: the largest artifact (64 GiB).
    public static let maximumBytes: Int64 = 64 << 30
    /// Longest manifest text a reader accepts (the limits above, with room to spare).
    public static let maximumTextBytes = 16 << 20

    /// The files, sorted by path bytes, no path twice.
    public private(set) var entries: [InputManifestEntry]

    /// A manifest of `entries` (sorted here).
    /// - Throws: `InputManifestError` when a path breaks `pathProblem`, a hash is not 64 lower-case hex digits, a
    ///   size is negative, a path appears twice or is also a directory of another, or a limit is passed.
    public init(entries: [InputManifestEntry]) throws(InputManifestError) {
        let sorted = entries.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        try Self.check(sorted)
        self.entries = sorted
    }

    /// The canonical text.
    public var text: String {
        var text = Self.header + "\n"
        for entry in entries {
            text += "\(entry.sha256) \(entry.size) \(entry.executable ? "x" : "-") \(entry.path)\n"
        }
        return text
    }

    /// The directory's content hash: the SHA-256 of `text`.
    public var sha256: String { SHA256Hex.of(Array(text.utf8)) }

    /// The files' bytes together.
    public var totalBytes: Int64 { entries.reduce(0) { $0 + $1.size } }

    /// Reads a manifest text (without the archive's empty line after it), checking every rule.
    public static func parse(_ bytes: [UInt8]) throws(InputManifestError) -> InputManifest {
        guard bytes.count <= maximumTextBytes else {
            throw InputManifestError("the manifest is longer than \(maximumTextBytes) bytes")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InputManifestError("the manifest is not UTF-8 text")
        }
        guard text.hasSuffix("\n") else { throw InputManifestError("the manifest does not end with a newline") }
        var lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(header) else {
            throw InputManifestError("the manifest does not start with '\(header)'")
        }
        lines.removeFirst()
        guard lines.count <= maximumFiles else {
            throw InputManifestError("the manifest lists \(lines.count) files, more than \(maximumFiles)")
        }
        var entries: [InputManifestEntry] = []
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let size = Int64(fields[1]), fields[2] == "x" || fields[2] == "-" else {
                throw InputManifestError("manifest line \(index + 2) is not '<sha256> <size> <x|-> <path>'")
            }
            entries.append(
                InputManifestEntry(
                    path: String(fields[3]), size: size, executable: fields[2] == "x", sha256: String(fields[0])))
        }
        let manifest = try InputManifest(entries: entries)
        guard manifest.entries == entries else { throw InputManifestError("the manifest's paths are not sorted") }
        return manifest
    }

    /// Why `path` cannot be a path in a directory input; nil when it can. Relative (no leading `/`), components
    /// separated by single `/`, none empty, `.` or `..`, each at most 255 bytes, at most 1024 bytes in all, UTF-8
    /// without control characters (U+0000–U+001F, U+007F–U+009F). The text never repeats the path.
    public static func pathProblem(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        if bytes.isEmpty { return "is empty" }
        if bytes.count > maximumPathBytes { return "is \(bytes.count) bytes, longer than \(maximumPathBytes)" }
        if bytes.first == UInt8(ascii: "/") { return "is absolute" }
        if path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "contains a control character"
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "has an empty component ('//' or a trailing '/')" }
            if component == "." || component == ".." { return "has a '.' or '..' component" }
            if component.utf8.count > maximumComponentBytes {
                return "has a component longer than \(maximumComponentBytes) bytes"
            }
        }
        return nil
    }

    private static func check(_ entries: [InputManifestEntry]) throws(InputManifestError) {
        guard entries.count <= maximumFiles else {
            throw InputManifestError("holds \(entries.count) files, more than \(maximumFiles)")
        }
        var total: Int64 = 0
        var directories: Set<String> = []
        var previous: String?
        for entry in entries {
            if let problem = pathProblem(entry.path) {
                throw InputManifestError("a path \(problem): \(entry.path.debugDescription)")
            }
            if entry.path == previous { throw InputManifestError("\(entry.path.debugDescription) is listed twice") }
            previous = entry.path
            guard entry.sha256.utf8.count == 64, entry.sha256.utf8.allSatisfy(isLowerHex) else {
                throw InputManifestError("the hash of \(entry.path.debugDescription) is not 64 lower-case hex digits")
            }
            guard entry.size >= 0, entry.size <= maximumBytes - total else {
                throw InputManifestError("the files hold more than \(maximumBytes) bytes")
            }
            total += entry.size
            var prefix = ""
            for component in entry.path.split(separator: "/").dropLast() {
                prefix += prefix.isEmpty ? String(component) : "/" + String(component)
                directories.insert(prefix)
            }
        }
        if let clash = entries.first(where: { directories.contains($0.path) }) {
            throw InputManifestError("\(clash.path.debugDescription) is both a file and a directory")
        }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }
}
