// AppendingFile: the append-only writer of streamed files: direct writes from aligned buffers, or the page cache.
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A file written front to back. Where the filesystem allows it the bytes bypass the page cache (`O_DIRECT`):
/// appended bytes gather in one of two aligned staging buffers; a full buffer is written on a writer queue while the
/// other fills, so the kernel moves the bytes to the device without copying them into cache pages and the
/// appending thread does not wait for the device (on this project's machine a buffered write of a new file costs
/// 1.5–3.5 CPU-seconds per GB in the kernel's copy and page allocation, a direct one about 0.1; see
/// docs/performance.md). The last partial buffer is written through the cache when the file is synced or closed.
/// Where `O_DIRECT` is refused (some filesystems) the file is written through the page cache, and every
/// `writebackBytes` appended the kernel is asked to start writing them out, so the final `sync` waits only for the
/// tail (`posix_fadvise(POSIX_FADV_DONTNEED)` starts asynchronous writeback of the range on Linux and drops its
/// pages once clean; the bytes were hashed as they arrived and are not read back). A direct write refused for its
/// alignment switches the file to the page cache from there on. Owned by one thread.
public final class AppendingFile {
    /// Alignment of the staging buffers, of the file offsets and of the lengths of direct writes: 4 KiB covers the
    /// logical block size of the devices in use (512 B or 4 KiB).
    public static let directAlignment = 4096

    /// Linux's `O_DIRECT`, which Glibc exposes to C only with `_GNU_SOURCE` (values from the kernel's `fcntl.h`).
    #if arch(arm64)
        public static let oDirect: Int32 = 0o200000
    #else
        public static let oDirect: Int32 = 0o40000
    #endif

    public let path: String
    /// Bytes appended so far, those still staged included.
    public private(set) var size: Int64
    private var fd: Int32
    private var unflushed: Int64 = 0
    private let writebackBytes: Int64
    /// The direct path: two staging buffers of `capacity` bytes and the queue that writes a full one.
    private var staging: Staging?
    /// Bytes in the current buffer, which belong at `stagingOffset` in the file (an aligned offset).
    private var staged = 0
    private var stagingOffset: Int64 = 0

    private struct Staging {
        var buffers: [UnsafeMutableRawPointer]
        var current = 0
        let capacity: Int
        let writer: BlockWriter
    }

    /// Whether bytes bypass the page cache now (false on filesystems without `O_DIRECT`, after a direct write was
    /// refused, or once closed).
    public var isDirect: Bool { staging != nil && fd >= 0 && fcntl(fd, F_GETFL) & Self.oDirect != 0 }

    /// Opens `path` for appending after its first `keep` bytes (created if missing; anything after `keep` is cut).
    /// With `direct`, writes bypass the page cache where the filesystem allows it, staged `stagingBytes` at a time
    /// (rounded up to `directAlignment`).
    public init(
        path: String, keep: Int64, writebackBytes: Int64 = 8 << 20, direct: Bool = true,
        stagingBytes: Int = 1 << 20
    ) throws(FileWriteError) {
        self.path = path
        self.writebackBytes = writebackBytes
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(path: path, detail: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        guard ftruncate(fd, off_t(keep)) == 0, lseek(fd, off_t(keep), SEEK_SET) >= 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw FileWriteError(path: path, detail: "cannot position at \(keep): \(reason)")
        }
        size = keep
        if direct { try startDirect(keep: keep, stagingBytes: stagingBytes) }
    }

    deinit { close() }

    /// Switches to direct writes when the filesystem accepts `O_DIRECT`: the unaligned tail of the `keep` bytes is
    /// read back into the first buffer, to be rewritten with what follows from the aligned offset before it.
    private func startDirect(keep: Int64, stagingBytes: Int) throws(FileWriteError) {
        let alignment = Self.directAlignment
        let capacity = max(alignment, (stagingBytes + alignment - 1) / alignment * alignment)
        let start = keep / Int64(alignment) * Int64(alignment)
        let tail = Int(keep - start)
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | Self.oDirect) == 0 else { return }
        let buffers = (0..<2).map { _ in UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: alignment) }
        // Owned by `self` from here, so `close` frees them whatever follows.
        staging = Staging(buffers: buffers, capacity: capacity, writer: BlockWriter(fd: fd, path: path))
        stagingOffset = start
        guard tail > 0 else { return }
        // Read through a second descriptor: a direct read would need an aligned length.
        let read = try readChunk(
            path, offset: start, into: UnsafeMutableRawBufferPointer(start: buffers[0], count: tail))
        guard read == tail else {
            throw FileWriteError(path: path, detail: "holds \(start + Int64(read)) bytes, not the \(keep) kept")
        }
        staged = tail
    }

    /// Appends all of `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        guard fd >= 0 else { throw FileWriteError(path: path, detail: "already closed") }
        guard var staging, let source = bytes.baseAddress else { return try appendBuffered(bytes) }
        var done = 0
        while done < bytes.count {
            let count = min(staging.capacity - staged, bytes.count - done)
            (staging.buffers[staging.current] + staged).copyMemory(from: source + done, byteCount: count)
            staged += count
            done += count
            size += Int64(count)
            guard staged == staging.capacity else { continue }
            // Returns once the other buffer's write has ended, so that buffer is free to fill.
            try staging.writer.submit(staging.buffers[staging.current], count: staged, at: stagingOffset)
            stagingOffset += Int64(staged)
            staged = 0
            staging.current ^= 1
            self.staging = staging
        }
    }

    private func appendBuffered(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        var done = 0
        while done < bytes.count {
            let wrote = write(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done)
            if wrote < 0, errno == EINTR { continue }
            guard wrote > 0 else {
                throw FileWriteError(path: path, detail: "write failed: \(String(cString: strerror(errno)))")
            }
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

    /// Waits for the write in flight, then writes the current buffer's bytes (through the page cache when they do
    /// not end on a block).
    private func writeStaged() throws(FileWriteError) {
        guard let staging else { return }
        try staging.writer.drain()
        guard staged > 0 else { return }
        try staging.writer.write(staging.buffers[staging.current], count: staged, at: stagingOffset)
        stagingOffset += Int64(staged)
        staged = 0
    }

    /// Writes what is staged, flushes the file to stable storage and closes it.
    public func syncAndClose() throws(FileWriteError) {
        guard fd >= 0 else { return }
        defer { close() }
        try writeStaged()
        guard fsync(fd) == 0 else {
            throw FileWriteError(path: path, detail: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Closes without flushing to stable storage; staged bytes are still written (best effort), so a transfer
    /// resumed from this file keeps them.
    public func close() {
        guard fd >= 0 else { return }
        try? writeStaged()
        staging?.writer.waitIdle()
        Glibc.close(fd)
        fd = -1
        for buffer in staging?.buffers ?? [] { buffer.deallocate() }
        staging = nil
        staged = 0
    }
}

/// Writes whole buffers of an `AppendingFile` at their offsets, one at a time, on its own serial queue (not the
/// cooperative pool); a failure is kept and thrown by the next call from the owner.
private final class BlockWriter: Sendable {
    private let fd: Int32
    private let path: String
    private let queue = DispatchQueue(label: "ablate.append")
    /// Taken while a write is queued or running.
    private let idle = DispatchSemaphore(value: 1)
    private let failure = Mutex<FileWriteError?>(nil)

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Queues the write of `count` bytes of `buffer` at `offset`, after the previous write has ended; `buffer` must
    /// stay untouched until the next `submit`, `drain` or `waitIdle` returns.
    func submit(_ buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64) throws(FileWriteError) {
        idle.wait()
        if let failure = failure.withLock({ $0 }) {
            idle.signal()
            throw failure
        }
        let bytes = UncheckedBytes(pointer: UnsafeRawPointer(buffer), count: count)
        queue.async { [self] in
            do throws(FileWriteError) { try write(bytes.pointer, count: bytes.count, at: offset) } catch {
                failure.withLock { $0 = error }
            }
            idle.signal()
        }
    }

    /// Waits for the write in flight; throws its failure, if any.
    func drain() throws(FileWriteError) {
        waitIdle()
        if let failure = failure.withLock({ $0 }) { throw failure }
    }

    func waitIdle() {
        idle.wait()
        idle.signal()
    }

    /// Writes `count` bytes at `offset` now: directly while the length is a whole number of blocks and the device
    /// takes it, otherwise (the file's last partial block, or a device that wants a larger alignment) through the
    /// page cache, which the file then keeps to.
    func write(_ buffer: UnsafeRawPointer, count: Int, at offset: Int64) throws(FileWriteError) {
        var done = 0
        while done < count {
            let remaining = count - done
            if remaining % AppendingFile.directAlignment != 0 { try setDirect(false) }
            let wrote = pwrite(fd, buffer + done, remaining, off_t(offset) + off_t(done))
            if wrote < 0, errno == EINTR { continue }
            if wrote < 0, errno == EINVAL, fcntl(fd, F_GETFL) & AppendingFile.oDirect != 0 {
                try setDirect(false)
                continue
            }
            guard wrote > 0 else {
                throw FileWriteError(
                    path: path, detail: "write at \(offset + Int64(done)) failed: \(String(cString: strerror(errno)))")
            }
            done += wrote
        }
    }

    private func setDirect(_ on: Bool) throws(FileWriteError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else {
            throw FileWriteError(
                path: path, detail: "cannot read the file's flags: \(String(cString: strerror(errno)))")
        }
        let wanted = on ? flags | AppendingFile.oDirect : flags & ~AppendingFile.oDirect
        guard wanted == flags || fcntl(fd, F_SETFL, wanted) == 0 else {
            throw FileWriteError(path: path, detail: "cannot change O_DIRECT: \(String(cString: strerror(errno)))")
        }
    }
}

/// A buffer handed to the writer queue; `BlockWriter.submit`'s contract keeps it alive and untouched meanwhile.
private struct UncheckedBytes: @unchecked Sendable {
    let pointer: UnsafeRawPointer
    let count: Int
}
