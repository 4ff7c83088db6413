// PositionalFile: POSIX reads at an offset and an append-only writer with early writeback, for streamed files.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads `length` bytes at `offset` of `path` with one `open` and `pread` calls straight into the returned array
/// (fewer bytes at the end of the file).
public func readChunk(_ path: String, offset: Int64, length: Int) throws(FileWriteError) -> [UInt8] {
    var failure: FileWriteError?
    let bytes = [UInt8](unsafeUninitializedCapacity: max(0, length)) { buffer, count in
        do throws(FileWriteError) {
            count = try readChunk(path, offset: offset, into: UnsafeMutableRawBufferPointer(buffer))
        } catch {
            failure = error
            count = 0
        }
    }
    if let failure { throw failure }
    return bytes
}

/// Reads up to `buffer.count` bytes at `offset` of `path` into `buffer` with one `open` and `pread` calls;
/// returns how many were read (fewer only at the end of the file).
@discardableResult
public func readChunk(_ path: String, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FileWriteError) -> Int {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileWriteError(path: path, detail: "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var count = 0
    while count < buffer.count, let base = buffer.baseAddress {
        let got = pread(fd, base + count, buffer.count - count, off_t(offset) + off_t(count))
        if got < 0, errno == EINTR { continue }
        if got < 0 { throw FileWriteError(path: path, detail: "read at \(offset) failed: \(String(cString: strerror(errno)))") }
        if got == 0 { break }
        count += got
    }
    return count
}

/// A file written front to back. Every `writebackBytes` appended, the kernel is asked to start writing them out,
/// so the final `sync` waits only for the tail instead of the whole file: `posix_fadvise(POSIX_FADV_DONTNEED)`
/// starts asynchronous writeback of the range on Linux (and drops its pages once clean; the bytes were hashed
/// as they arrived and are not read back).
public final class AppendingFile {
    public let path: String
    public private(set) var size: Int64
    private var fd: Int32
    private var unflushed: Int64 = 0
    private let writebackBytes: Int64

    /// Opens `path` for appending after its first `keep` bytes (created if missing; anything after `keep` is cut).
    public init(path: String, keep: Int64, writebackBytes: Int64 = 8 << 20) throws(FileWriteError) {
        self.path = path
        self.writebackBytes = writebackBytes
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: path, detail: "cannot open for writing: \(String(cString: strerror(errno)))") }
        guard ftruncate(fd, off_t(keep)) == 0, lseek(fd, off_t(keep), SEEK_SET) >= 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw FileWriteError(path: path, detail: "cannot position at \(keep): \(reason)")
        }
        size = keep
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Appends all of `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        guard fd >= 0 else { throw FileWriteError(path: path, detail: "already closed") }
        var done = 0
        while done < bytes.count {
            let wrote = write(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done)
            if wrote < 0, errno == EINTR { continue }
            guard wrote > 0 else { throw FileWriteError(path: path, detail: "write failed: \(String(cString: strerror(errno)))") }
            done += wrote
        }
        size += Int64(done)
        unflushed += Int64(done)
        if unflushed >= writebackBytes {
            // Advisory: starts writeback of the bytes just written without waiting for it.
            _ = posix_fadvise(fd, off_t(size - unflushed), off_t(unflushed), POSIX_FADV_DONTNEED)
            unflushed = 0
        }
    }

    /// Flushes the file to stable storage and closes it.
    public func syncAndClose() throws(FileWriteError) {
        guard fd >= 0 else { return }
        defer {
            Glibc.close(fd)
            fd = -1
        }
        guard fsync(fd) == 0 else { throw FileWriteError(path: path, detail: "fsync failed: \(String(cString: strerror(errno)))") }
    }

    /// Closes without flushing.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}
