// LabSweepSource: a lab sweep read from a sweep file on the coordinator's host (`--sweep`), kept in its directory.
import AblateSupport
import Foundation

/// Where a lab sweep given with `ablate coordinator --sweep FILE` comes from: `STATE/sweeps/<name>/source.json`.
/// The file is read again at each start, as a single-sweep coordinator reads its `--sweep` (an edit changes the
/// plan the same way); its paths resolve against the file's directory on this host.
public struct LabSweepSource: Codable, Sendable, Equatable {
    /// The sweep file's absolute path.
    public var sweepPath: String
    /// When the lab first served the sweep (Unix seconds): the policy's tie-break after priority and share.
    public var submittedAt: Double
    /// Who added it (`local` for `--sweep`).
    public var submitter: String

    public static let fileName = "source.json"

    public init(sweepPath: String, submittedAt: Double, submitter: String = "local") {
        self.sweepPath = sweepPath
        self.submittedAt = submittedAt
        self.submitter = submitter
    }

    /// The source recorded in `sweepDirectory`; nil when it has none.
    public static func read(sweepDirectory: String) throws -> LabSweepSource? {
        let path = "\(sweepDirectory)/\(fileName)"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(LabSweepSource.self, from: data)
        } catch {
            throw LabError("\(path): unreadable (\(error.localizedDescription))")
        }
    }

    /// Writes it to `sweepDirectory` (created if needed): temporary file, fsync, rename.
    public func write(sweepDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: sweepDirectory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try encoder.encode(self)), to: "\(sweepDirectory)/\(Self.fileName)")
    }
}
