// ArtifactRef+File: a local file as an artifact reference — its SHA-256 and size.
import AblateSupport
import Foundation
import WireProtocol

extension ArtifactRef {
    /// A local file as an artifact: its SHA-256 and size.
    public static func ofFile(_ path: String, name: String) throws -> ArtifactRef {
        let sha: String
        do { sha = try SHA256Hex.ofFile(path) } catch { throw ArtifactStoreError("\(path): \(error.detail)") }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
        else {
            throw ArtifactStoreError("\(path): cannot read its size")
        }
        return ArtifactRef(name: name, sha256: sha, size: size)
    }
}
