// PositionalFile: POSIX reads at an offset, straight into the caller's buffer, for streamed files.
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
public func readChunk(_ path: String, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(FileWriteError)
    -> Int
{
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileWriteError(path: path, detail: "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var count = 0
    while count < buffer.count, let base = buffer.baseAddress {
        let got = pread(fd, base + count, buffer.count - count, off_t(offset) + off_t(count))
        if got < 0, errno == EINTR { continue }
        if got < 0 {
            throw FileWriteError(path: path, detail: "read at \(offset) failed: \(String(cString: strerror(errno)))")
        }
        if got == 0 { break }
        count += got
    }
    return count
}
