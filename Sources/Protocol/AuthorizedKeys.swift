// AuthorizedKeys: the coordinator's allowlist, a directory of worker `.pub` files, and the loopback bind rule.
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
            throw CurveKeyError("\(path) is writable by group or others (mode \(String(mode, radix: 8))); run: chmod go-w \(path)")
        }
    }
}

/// Which endpoints stay on this machine, so may be bound without CURVE.
public enum BindPolicy {
    /// True for `ipc://`, `inproc://`, and `tcp://` on 127.0.0.0/8, `[::1]`, `::1` or `localhost`.
    public static func isLoopback(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        var host = String(endpoint.dropFirst("tcp://".count))
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
