// AuthorizedKeys: the coordinator's allowlist, a directory of `.pub` files naming worker and client keys.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a key on the allowlist may do.
public enum KeyRole: String, Sendable, Equatable, CaseIterable {
    /// Takes cells (HELLO and the rest of the worker protocol) and asks for status.
    case worker
    /// Acts on sweeps (CONTROL) and asks for status; never given cells.
    case client

    /// The subdirectory of the authorized-keys directory holding keys of this role.
    public var directoryName: String { self == .worker ? "workers" : "clients" }
}

/// One key of the allowlist: its name (`workers/gpu-host-1`, `clients/alice`: the role's directory and the file name
/// without `.pub`; the ZAP handler answers it as the connection's User-Id), its role and its Z85 public key.
public struct AuthorizedKey: Sendable, Equatable {
    public var name: String
    public var role: KeyRole
    public var publicKey: String
    /// The file, relative to the authorized-keys directory (`gpu0.pub` in the flat layout, `clients/alice.pub`).
    public var file: String

    public init(name: String, role: KeyRole, publicKey: String, file: String? = nil) {
        self.name = name
        self.role = role
        self.publicKey = publicKey
        self.file = file ?? name + ".pub"
    }

    /// The role a User-Id names (`workers/…` or `clients/…`), nil for anything else.
    public static func role(ofUserID userID: String) -> KeyRole? {
        KeyRole.allCases.first { userID.hasPrefix($0.directoryName + "/") }
    }
}

/// The Z85 public keys of the `*.pub` files of an authorized-keys directory (other files are ignored): those in
/// `DIR/workers/` are workers, those in `DIR/clients/` clients, and those directly in `DIR` (the layout before roles)
/// workers named `workers/<name>`. The directories and key files must not be writable by group or others: whoever can
/// add a file there can admit a peer.
public enum AuthorizedKeys {
    /// The keys, by file name (`gpu0.pub`, `workers/gpu1.pub`, `clients/alice.pub`); see `loadKeys`.
    public static func load(directory: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for key in try loadKeys(directory: directory) {
            out[key.file] = key.publicKey
        }
        return out
    }

    /// Every key with its name and role, workers first, each by name.
    /// - Throws: `CurveKeyError` on an unreadable or loosely permitted directory or file, a malformed file, or one
    ///   public key given both as a worker and as a client.
    public static func loadKeys(directory: String) throws -> [AuthorizedKey] {
        var keys: [AuthorizedKey] = []
        for (name, path) in try pubFiles(in: directory) {
            keys.append(
                AuthorizedKey(name: "workers/\(name)", role: .worker, publicKey: try read(path), file: "\(name).pub"))
        }
        for role in KeyRole.allCases {
            let subdirectory = "\(directory)/\(role.directoryName)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: subdirectory, isDirectory: &isDirectory), isDirectory.boolValue
            else { continue }
            for (name, path) in try pubFiles(in: subdirectory) {
                keys.append(
                    AuthorizedKey(
                        name: "\(role.directoryName)/\(name)", role: role, publicKey: try read(path)))
            }
        }
        var roleOfKey: [String: AuthorizedKey] = [:]
        for key in keys {
            if let other = roleOfKey[key.publicKey], other.role != key.role {
                throw CurveKeyError(
                    "\(directory): one public key is both \(other.name).pub and \(key.name).pub; a key is a worker or a client, not both: remove one"
                )
            }
            roleOfKey[key.publicKey] = key
        }
        return keys
    }

    /// The `.pub` files of `directory` as (name without `.pub`, path), sorted; the directory checked first.
    private static func pubFiles(in directory: String) throws -> [(String, String)] {
        try requireNotWritableByOthers(directory)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw CurveKeyError("\(directory): cannot list the authorized keys (\(error.localizedDescription))")
        }
        return names.sorted().filter { $0.hasSuffix(".pub") }.map { (String($0.dropLast(4)), "\(directory)/\($0)") }
    }

    private static func read(_ path: String) throws -> String {
        try requireNotWritableByOthers(path)
        return try CurveKeyFile.readPublic(path)
    }

    private static func requireNotWritableByOthers(_ path: String) throws {
        let mode = try CurveKeyFile.permissions(path)
        if mode & 0o022 != 0 {
            throw CurveKeyError(
                "\(path) is writable by group or others (mode \(String(mode, radix: 8))); run: chmod go-w \(path)")
        }
    }
}
