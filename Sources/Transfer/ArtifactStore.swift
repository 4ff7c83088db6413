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
        try FileManager.default.createDirectory(
            atPath: "\(stateDirectory)/artifacts", withIntermediateDirectories: true)
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

    /// Hashes the file at `path` (absolute) and compares it with `sha256`. Returns nil when it matches, else what is
    /// wrong in a few words (missing, unreadable, or the SHA-256 it has instead).
    public func verify(_ path: String, sha256: String) -> String? {
        let digest: String
        do { digest = try SHA256Hex.ofFile(path) } catch { return error.detail }
        return digest == sha256 ? nil : "its bytes hash to \(digest.prefix(12))…"
    }

    /// Moves a damaged artifact out of the store to `STATE/damaged/<name>` (kept for inspection, never served).
    /// Returns where it went, or nil when it could not be moved (it is then removed).
    @discardableResult
    public func quarantine(_ path: String) -> String? {
        let folder = "\(stateDirectory)/damaged"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = "\(folder)/\(URL(fileURLWithPath: path).lastPathComponent)"
        if rename(path, target) == 0 { return target }
        unlink(path)
        return nil
    }
}
