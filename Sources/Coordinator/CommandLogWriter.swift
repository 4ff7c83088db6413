// CommandLogWriter: appends a command cell's output lines to STATE/runs/<variant>/seed-<seed>/attempt-<n>.log.
import Foundation
import TransferKit

/// Keeps each attempt's captured output central, best effort: lines arrive as the worker forwards them (LOG
/// messages are neither acknowledged nor resent), and a log stops growing at `maxBytes`.
public struct CommandLogWriter {
    public let store: ArtifactStore
    /// Largest size of one attempt's log; later lines are dropped.
    public var maxBytes: Int64 = 64 << 20

    public init(store: ArtifactStore) { self.store = store }

    /// The log of one attempt, relative to the state directory.
    public static func relativePath(variant: String, seed: UInt64, attempt: Int) -> String {
        ResultsWriter.relativeDirectory(variant: variant, seed: seed) + "/attempt-\(attempt).log"
    }

    /// Appends `lines` (each ended by a newline). Failures are returned as a description, never thrown: a log
    /// line is not worth stopping the coordinator for.
    @discardableResult
    public func append(_ lines: [String], variant: String, seed: UInt64, attempt: Int) -> String? {
        guard !lines.isEmpty else { return nil }
        let path = store.absolute(Self.relativePath(variant: variant, seed: seed, attempt: attempt))
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { return "\(path): cannot open for appending" }
            defer { try? handle.close() }
            let end = try handle.seekToEnd()
            guard end < UInt64(maxBytes) else { return nil }
            try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
            return nil
        } catch {
            return "\(path): \(error)"
        }
    }
}
