// CodeRecord: a command cell's code — its files with their SHA-256, the content hash over them, git commit and dirty flag.
import AblateSupport
import Foundation
import RunSpec

/// One file of a cell's code: its path as recorded (relative to the sweep file's directory when under it, else
/// absolute) and the SHA-256 of its bytes (of the target's, for a symbolic link).
public struct CodeFile: Sendable, Equatable, Codable {
    public var path: String
    public var sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}

/// What a command cell's code was: its files, their content hash (which enters the cell id) and, when the sweep's
/// directory is in a git work tree, the commit checked out and whether any of the files differ from it.
public struct CodeRecord: Sendable, Equatable, Codable {
    /// Lower-case hex SHA-256 of `canonicalText(files)`.
    public var sha256: String
    /// Sorted by path (UTF-8 bytes), no path twice.
    public var files: [CodeFile]
    /// `git rev-parse HEAD` in the sweep's directory; nil outside a git work tree (or without git).
    public var commit: String?
    /// Whether `git status --porcelain` lists any of the files (modified, staged or untracked); nil without a commit
    /// or when git could not tell.
    public var dirty: Bool?
    /// True for a done cell planned by a release that did not hash code, kept when its sweep was first planned
    /// with code (`CodePlanning.keepingEarlierCells`): the code it ran is assumed to be this, the code of that
    /// planning. Nil otherwise (and then left out of `json`).
    public var assumed: Bool?

    /// A record of `files` (sorted and deduplicated by path here), its hash computed from them.
    public init(files: [CodeFile], commit: String? = nil, dirty: Bool? = nil) {
        var byPath: [String: CodeFile] = [:]
        for file in files { byPath[file.path] = file }
        let sorted = byPath.values.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        self.files = sorted
        sha256 = SHA256Hex.of(Array(Self.canonicalText(sorted).utf8))
        self.commit = commit
        self.dirty = dirty
    }

    /// The text the code hash is the SHA-256 of: one line per file, sorted by path, `<sha256>  <path>\n` (64
    /// lower-case hex digits, two spaces, the recorded path) — what `sha256sum` prints for the files in that order,
    /// run in the sweep file's directory.
    public static func canonicalText(_ files: [CodeFile]) -> String {
        files.map { "\($0.sha256)  \($0.path)\n" }.joined()
    }

    /// The record as one JSON object, keys sorted, no whitespace (as the ledger stores it).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A record from `json`; nil when it is not one.
    public init?(json: String) {
        guard let record = try? JSONDecoder().decode(CodeRecord.self, from: Data(json.utf8)) else { return nil }
        self = record
    }

    /// The canonical JSON this record adds to a cell's identity text (`CellIdentity` key `code`): its hash as a
    /// JSON string.
    public var identityJSON: String { JSONText.quoted(sha256) }
}
