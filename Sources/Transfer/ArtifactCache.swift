// ArtifactCache: the worker's verified artifact files, named by SHA-256.
import Foundation
import WireProtocol

/// The worker's artifact cache: `DIR/<sha256>` files, each verified against its SHA-256 when it arrived.
public struct ArtifactCache: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func path(_ sha256: String) -> String { "\(directory)/\(sha256)" }

    /// Whether a verified copy of `ref` is held.
    public func has(_ ref: ArtifactRef) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path(ref.sha256)),
            let size = attributes[.size] as? NSNumber
        else { return false }
        return size.int64Value == ref.size
    }
}
