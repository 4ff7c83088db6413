// PartFile: a file received in order into a `.part` file and hashed as it grows, accepted only if its SHA-256 matches.
import Crypto
import Foundation
import WireProtocol

/// The receiving end of a hashed transfer, shared by the coordinator (checkpoints from workers) and the worker
/// (artifacts fetched from the coordinator): pieces are appended only when they continue the bytes held, the
/// SHA-256 is updated as they arrive, and `finish` says whether the whole matches before the caller renames it.
public final class PartFile {
    public let path: String
    public let sha256: String
    public let size: Int64
    public private(set) var held: Int64 = 0
    private var handle: FileHandle?
    private var hasher = SHA256()

    /// Opens `path`; with `resume`, bytes already there (no more than `size`) are kept and hashed, else it starts empty.
    public init(path: String, sha256: String, size: Int64, resume: Bool) throws {
        self.path = path
        self.sha256 = sha256
        self.size = size
        if resume, let bytes = FileManager.default.contents(atPath: path), Int64(bytes.count) <= size {
            hasher.update(data: bytes)
            held = Int64(bytes.count)
        } else if !FileManager.default.createFile(atPath: path, contents: nil) {
            throw TrainingError.badData("\(path): cannot create")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.badData("\(path): cannot open for writing") }
        try handle.truncate(atOffset: UInt64(held))
        try handle.seekToEnd()
        self.handle = handle
    }

    public var isComplete: Bool { held >= size }

    /// Appends `payload` when it starts at the bytes held; returns false (and writes nothing) otherwise.
    public func append(_ payload: [UInt8], at offset: Int64) throws -> Bool {
        guard offset == held, let handle else { return false }
        try handle.write(contentsOf: payload)
        hasher.update(data: payload)
        held += Int64(payload.count)
        return true
    }

    /// Closes the file. Returns nil when the bytes hash to `sha256` (the file is then fsynced, ready to rename);
    /// otherwise the file is removed and the digest actually received is returned.
    public func finish() throws -> String? {
        let digest = Hex.encode(hasher.finalize())
        guard let handle else { return digest }
        self.handle = nil
        guard digest == sha256, held == size else {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            return digest
        }
        try handle.synchronize()
        try handle.close()
        return nil
    }

    /// Closes without checking (a transfer abandoned or restarted).
    public func close() {
        try? handle?.close()
        handle = nil
    }
}
