// Submission: what a lab keeps of a submitted sweep (`sweeps/<name>/submission.json`): its text, files and code.
import AblateSupport
import Foundation

/// A sweep as the lab received it: the text, and where the files it names are. A **local** submission (a sweep
/// file on the coordinator's host) has a `workingDirectory` its relative paths resolve against; a **remote** one
/// (`ablate submit`) has none: each path the sweep names is a key of `files`, whose value is the SHA-256 of the
/// upload it stands for (`UploadStore.path(of:)`: a file, or a directory input's materialised tree), and its
/// command variants' code comes from the client (`code`), since the client's files are not on this host.
public struct Submission: Codable, Sendable, Equatable {
    /// The file under the sweep's directory.
    public static let fileName = "submission.json"

    public var name: String
    public var text: String
    /// The client's name for the sweep file, used in problem lines.
    public var sourceName: String
    /// Local submissions: relative paths resolve here. Nil for a remote submission.
    public var workingDirectory: String?
    /// Remote: path as the sweep names it (`SubmissionPaths.key`) → SHA-256 of the upload it stands for.
    public var files: [String: String]
    /// Remote: each command variant's code identity from the client, by variant name.
    public var code: [String: CodeRecord]?
    /// −1000 … 1000, higher first.
    public var priority: Int
    /// Who submitted it: the client key's name (`clients/alice`) or `loopback`.
    public var submitter: String
    /// Seconds since 1970.
    public var submittedAt: Double

    public init(
        name: String, text: String, sourceName: String, workingDirectory: String? = nil, files: [String: String] = [:],
        code: [String: CodeRecord]? = nil, priority: Int = 0, submitter: String, submittedAt: Double
    ) {
        self.name = name
        self.text = text
        self.sourceName = sourceName
        self.workingDirectory = workingDirectory
        self.files = files
        self.code = code
        self.priority = priority
        self.submitter = submitter
        self.submittedAt = submittedAt
    }

    /// Whether the files are uploads (no working directory on this host).
    public var isRemote: Bool { workingDirectory == nil }

    /// The submission stored in `sweepDirectory`.
    /// - Throws: `FileWriteError` when the file cannot be read or is not a submission.
    public static func read(sweepDirectory: String) throws -> Submission {
        let path = "\(sweepDirectory)/\(fileName)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileWriteError(path: path, detail: "cannot be read")
        }
        do {
            return try JSONDecoder().decode(Submission.self, from: data)
        } catch {
            throw FileWriteError(path: path, detail: "not a submission (\(error))")
        }
    }

    /// Stores the submission in `sweepDirectory` (created with its parents when missing), atomically: through a
    /// temporary file, fsynced, renamed (`AtomicFile`), replacing an earlier one.
    public func write(sweepDirectory: String) throws {
        try Directories.create(sweepDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        try AtomicFile.write(Array(data) + [0x0A], to: "\(sweepDirectory)/\(Self.fileName)", overwrite: .replace)
    }
}
