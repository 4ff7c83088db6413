// MappedFile: a whole file mapped read-only, so its bytes can be sent without being read into a buffer first.
#if canImport(Glibc)
    import Glibc
#endif

/// A read-only shared mapping of a file as it was when mapped, unmapped when the last reference goes away (which
/// may be on another thread, e.g. libzmq's I/O thread releasing the last frame sent from it). Only for files
/// nobody truncates while they are mapped: reading a page past a shrunken end raises `SIGBUS`. The worker's outbox
/// files qualify: each is named by its SHA-256 and never rewritten.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file's bytes (empty for an empty file, which is not mapped).
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws(FileWriteError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileWriteError(path: path, detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw FileWriteError(path: path, detail: "cannot stat: \(String(cString: strerror(errno)))")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw FileWriteError(path: path, detail: "cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        // Read front to back once: aggressive readahead, and pages may be dropped behind.
        _ = madvise(base, size, MADV_SEQUENTIAL)
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
