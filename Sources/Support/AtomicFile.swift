// AtomicFile: write a file through a temporary sibling, fsync, rename, fsync the directory.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Errors of atomic file writes, naming the path.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let detail: String
    public var description: String { "\(path): \(detail)" }
    public init(path: String, detail: String) {
        self.path = path
        self.detail = detail
    }
}

/// Writes files so that readers see either the old file or the complete new one, never a partial one,
/// and a crash at any point leaves no partial file under the final name.
public enum AtomicFile {
    /// Whether an existing destination may be replaced.
    public enum Overwrite: Sendable {
        case fail
        case replace
    }

    /// Calls `produce` with a temporary path in the destination's directory, then makes that file durable
    /// and renames it to `path`. The temporary file is removed if `produce` throws.
    public static func write<R>(
        to path: String, overwrite: Overwrite = .fail, _ produce: (_ temporaryPath: String) throws -> R
    ) throws -> R {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw FileWriteError(path: path, detail: "directory \(directory) does not exist")
        }
        if overwrite == .fail, FileManager.default.fileExists(atPath: path) {
            throw FileWriteError(path: path, detail: "already exists (use --force to overwrite)")
        }
        let temporary =
            directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let result = try produce(temporary)
            try fsyncPath(temporary)
            if overwrite == .fail {
                // link(2) fails if the destination appeared meanwhile; rename(2) would silently replace it.
                guard link(temporary, path) == 0 else {
                    let reason =
                        errno == EEXIST ? "already exists (use --force to overwrite)" : String(cString: strerror(errno))
                    throw FileWriteError(path: path, detail: reason)
                }
                unlink(temporary)
            } else if rename(temporary, path) != 0 {
                throw FileWriteError(path: path, detail: "rename failed: \(String(cString: strerror(errno)))")
            }
            try fsyncPath(directory)
            return result
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` atomically to `path`.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Overwrite = .replace) throws {
        try write(to: path, overwrite: overwrite) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                throw FileWriteError(path: path, detail: "cannot create \(temporary)")
            }
        }
    }

    /// Flushes a file or directory to stable storage.
    public static func fsyncPath(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FileWriteError(path: path, detail: "cannot open for fsync: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw FileWriteError(path: path, detail: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }
}
