// Directories: creates a directory and its parents with one-line errors, and removes what a failed command made.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public enum Directories {
    /// Creates `path` and any missing parents (like `mkdir -p`).
    /// - Returns: the outermost directory this call created (the one to remove to undo it), nil when `path`
    ///   already was a directory.
    /// - Throws: `FileWriteError` (the path, the part at fault and why) when a part of the path is not a directory
    ///   or cannot be created.
    @discardableResult
    public static func create(_ path: String) throws -> String? {
        guard !path.isEmpty else { throw FileWriteError(path: path, detail: "an empty path is not a directory") }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var prefix = ""
        var created: String?
        for component in absolute.split(separator: "/") where component != "." {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) == 0 {
                guard (status.st_mode & S_IFMT) == S_IFDIR else {
                    let detail =
                        prefix == absolute ? "exists and is not a directory" : "\(prefix) is a file, not a directory"
                    throw FileWriteError(path: path, detail: detail)
                }
                continue
            }
            if mkdir(prefix, 0o777) != 0 {
                let code = errno
                // Another process may have made it in between.
                if code == EEXIST, isDirectory(prefix) { continue }
                if let created { try? FileManager.default.removeItem(atPath: created) }
                let detail =
                    prefix == absolute ? "cannot create the directory" : "cannot create the directory \(prefix)"
                throw FileWriteError(path: path, detail: "\(detail): \(String(cString: strerror(code)))")
            }
            if created == nil { created = prefix }
        }
        return created
    }

    /// Whether `path` is a directory (following links).
    public static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// The outermost directory of `path` (itself or a parent) that does not exist yet: what creating `path`
    /// would create first; nil when `path` exists.
    public static func outermostMissing(_ path: String) -> String? {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var prefix = ""
        for component in absolute.split(separator: "/") where component != "." {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) != 0 { return prefix }
        }
        return nil
    }

    /// Names in `path` (empty when it is not a readable directory).
    public static func entries(_ path: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
    }

    /// Removes what a failed command added to `path`: the whole directory when it made it (`created`), else
    /// every entry not in `before`. Best effort: what cannot be removed stays.
    public static func undo(_ path: String, created: String?, before: Set<String>) {
        if let created {
            try? FileManager.default.removeItem(atPath: created)
            return
        }
        for name in entries(path).subtracting(before) {
            try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name))
        }
    }
}
