// AuthorizedKeys: the coordinator's allowlist, a directory of worker `.pub` files.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The Z85 public keys of the `*.pub` files in a directory (other files are ignored). The directory and its key
/// files must not be writable by group or others: whoever can add a file there can admit a worker.
public enum AuthorizedKeys {
    /// The keys, by file name; throws on an unreadable directory, a loosely permitted one, or a malformed file.
    public static func load(directory: String) throws -> [String: String] {
        try requireNotWritableByOthers(directory)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw CurveKeyError("\(directory): cannot list the authorized keys (\(error.localizedDescription))")
        }
        var keys: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".pub") {
            let path = "\(directory)/\(name)"
            try requireNotWritableByOthers(path)
            keys[name] = try CurveKeyFile.readPublic(path)
        }
        return keys
    }

    private static func requireNotWritableByOthers(_ path: String) throws {
        let mode = try CurveKeyFile.permissions(path)
        if mode & 0o022 != 0 {
            throw CurveKeyError(
                "\(path) is writable by group or others (mode \(String(mode, radix: 8))); run: chmod go-w \(path)")
        }
    }
}
