// ArtifactStore: the coordinator's content-addressed files (STATE/artifacts/<sha256>) and registered local files.
import AblateSupport
import Foundation

/// A failure of the artifact store, naming the file.
public struct ArtifactStoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Files known by SHA-256: checkpoints received from workers live under `STATE/artifacts/`; the dataset and a given
/// stage-1 checkpoint are registered where they are (absolute paths). Reads serve FETCH requests.
public final class ArtifactStore {
    public let stateDirectory: String
    public var directory: String { "\(stateDirectory)/artifacts" }

    public init(stateDirectory: String) throws {
        self.stateDirectory = stateDirectory
        try FileManager.default.createDirectory(atPath: "\(stateDirectory)/artifacts", withIntermediateDirectories: true)
    }

    /// The absolute path of an artifact given its ledger path (relative to the state directory, or absolute).
    public func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : "\(stateDirectory)/\(path)"
    }

    /// Moves a verified file into the store (fsync of the directory after the rename); returns its ledger path.
    public func adopt(_ file: String, sha256: String) throws -> String {
        let relative = "artifacts/\(sha256)"
        if rename(file, absolute(relative)) != 0 {
            throw ArtifactStoreError("\(absolute(relative)): cannot move the received file into place (errno \(errno))")
        }
        let descriptor = open(directory, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        return relative
    }

    /// `length` bytes at `offset` of the artifact at `path` (absolute).
    public func read(_ path: String, offset: Int64, length: Int) throws -> [UInt8] {
        try readChunk(path, offset: offset, length: length)
    }
}
