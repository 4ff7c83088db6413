// FreeSpace: the bytes an unprivileged process may still write on the filesystem holding a path (statvfs).
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failed `statvfs`, naming the path.
public struct FreeSpaceError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let detail: String
    public var description: String { "\(path): cannot read the free space: \(detail)" }
}

/// The one wrapper of `statvfs(3)`.
public enum FreeSpace {
    /// Bytes available to unprivileged writers (`f_bavail × f_frsize`) on the filesystem that holds `path`.
    public static func available(at path: String) throws(FreeSpaceError) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            throw FreeSpaceError(path: path, detail: String(cString: strerror(errno)))
        }
        let blockSize = info.f_frsize > 0 ? UInt64(info.f_frsize) : UInt64(info.f_bsize)
        let (bytes, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: blockSize)
        return overflow || bytes > UInt64(Int64.max) ? Int64.max : Int64(bytes)
    }
}
