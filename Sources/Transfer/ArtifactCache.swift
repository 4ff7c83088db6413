// ArtifactCache: a host's verified artifact files, named by SHA-256, shared by the worker processes of the host.
import Foundation
import WireProtocol

/// The artifact cache: `DIR/<sha256>` files, each verified against its SHA-256 when it arrived. Several worker
/// processes may share one directory: each downloads into a part file of its own (`<sha256>.part-<pid>`) and renames
/// it into place, so a file under its final name is always complete, and two processes fetching the same file at
/// once both end with the same bytes there. Files are never removed while workers run.
public struct ArtifactCache: Sendable {
    public let directory: String

    /// Opens (creating) the directory and removes the part files of processes that no longer run.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if Self.isAbandonedPart(name) { try? FileManager.default.removeItem(atPath: "\(directory)/\(name)") }
        }
    }

    public func path(_ sha256: String) -> String { "\(directory)/\(sha256)" }

    /// Where this process receives `sha256` before it is verified and renamed to `path(sha256)`.
    public func partPath(_ sha256: String) -> String { "\(directory)/\(sha256).part-\(getpid())" }

    /// Whether a verified copy of `ref` is held.
    public func has(_ ref: ArtifactRef) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path(ref.sha256)),
            let size = attributes[.size] as? NSNumber
        else { return false }
        return size.int64Value == ref.size
    }

    /// A part file left by a process that is gone: `<sha>.part` (before parts were per process) or
    /// `<sha>.part-<pid>` whose pid no longer exists.
    static func isAbandonedPart(_ name: String) -> Bool {
        if name.hasSuffix(".part") { return true }
        guard let range = name.range(of: ".part-"), let pid = Int32(name[range.upperBound...]) else { return false }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }
}
