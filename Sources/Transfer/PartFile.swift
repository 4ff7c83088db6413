// PartFile: a file received in order into a `.part` file and hashed as it grows, accepted only if its SHA-256 matches.
import AblateSupport
import Foundation
import WireProtocol

/// The receiving end of a hashed transfer, shared by the coordinator (checkpoints from workers) and the worker
/// (artifacts fetched from the coordinator): pieces are appended only when they continue the bytes held, the
/// SHA-256 is updated as they arrive (on a `BackgroundDigest` queue, overlapping the next receive and write), and
/// `finish` says whether the whole matches before the caller renames it.
public final class PartFile {
    public let path: String
    public let sha256: String
    public let size: Int64
    public private(set) var held: Int64 = 0
    private var file: AppendingFile?
    private let digest = BackgroundDigest()

    /// Opens `path`; with `resume`, bytes already there (no more than `size`) are kept and hashed, else it starts empty.
    /// Writeback to disk starts every `writebackBytes` (see `AppendingFile`).
    public init(path: String, sha256: String, size: Int64, resume: Bool, writebackBytes: Int64 = 8 << 20) throws {
        self.path = path
        self.sha256 = sha256
        self.size = size
        if resume, let bytes = FileManager.default.contents(atPath: path), Int64(bytes.count) <= size {
            digest.updateNow(bytes)
            held = Int64(bytes.count)
        }
        file = try AppendingFile(path: path, keep: held, writebackBytes: writebackBytes)
    }

    public var isComplete: Bool { held >= size }

    /// Appends `payload` when it starts at the bytes held; returns false (and writes nothing) otherwise.
    /// A received payload is written and hashed from the libzmq message it arrived in, without a copy.
    public func append(_ payload: FrameBytes, at offset: Int64) throws -> Bool {
        guard offset == held, let file else { return false }
        try payload.withUnsafeBytes { (bytes) throws(FileWriteError) in try file.append(bytes) }
        digest.update(payload)
        held += Int64(payload.count)
        return true
    }

    public func append(_ payload: [UInt8], at offset: Int64) throws -> Bool {
        try append(FrameBytes(payload), at: offset)
    }

    /// Closes the file. Returns nil when the bytes hash to `sha256` (the file is then fsynced, ready to rename);
    /// otherwise the file is removed and the digest actually received is returned.
    public func finish() throws -> String? {
        let digest = self.digest.finish()
        guard let file else { return digest }
        self.file = nil
        guard digest == sha256, held == size else {
            file.close()
            try? FileManager.default.removeItem(atPath: path)
            return digest
        }
        try file.syncAndClose()
        return nil
    }

    /// Closes without checking (a transfer abandoned or restarted).
    public func close() {
        file?.close()
        file = nil
    }
}
