// SHA256Hex: lower-case hex SHA-256 of bytes and of files — the one file hasher of every module.
import Crypto
import Foundation

/// SHA-256 digests as 64 lower-case hex digits (artifact names, cell ids, checkpoint and dataset file hashes).
public enum SHA256Hex {
    /// The digest of arbitrary bytes.
    public static func of<D: DataProtocol>(_ bytes: D) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// The digest of a file's bytes (a checkpoint, a stored artifact), read 1 MiB at a time.
    public static func ofFile(_ path: String) throws(FileWriteError) -> String {
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while case let count = try readChunk(path, offset: offset, into: buffer), count > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer.prefix(count)))
            offset += Int64(count)
        }
        return hex(hasher.finalize())
    }

    /// A digest's bytes as lower-case hex.
    public static func hex<D: Sequence<UInt8>>(_ digest: D) -> String {
        digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
