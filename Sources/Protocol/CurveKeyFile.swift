// CurveKeyFile: the CURVE key files `ablate keygen` writes and the checks made when reading them.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The key files of `ablate keygen` (docs/security.md): `NAME.key` holds the secret key on its first key line and
/// the public key on the second; `NAME.pub` holds the public key. Lines starting with `#` and blank lines are
/// comments. Secret key files must not be readable by group or others.
public enum CurveKeyFile {
    /// Writes `DIR/NAME.key` (mode 0600) and `DIR/NAME.pub` (mode 0644) for `pair`; refuses to overwrite.
    /// Returns the two paths.
    public static func write(_ pair: CurveKeyPair, directory: String, name: String) throws -> (
        secret: String, public: String
    ) {
        guard !name.isEmpty, !name.contains("/") else {
            throw CurveKeyError("--name \(name): a key name is a non-empty file name without '/'")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secretPath = "\(directory)/\(name).key"
        let publicPath = "\(directory)/\(name).pub"
        for path in [secretPath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw CurveKeyError("\(path) already exists; remove it or choose another --name")
        }
        let secretText =
            "# ablate CURVE secret key (Z85): secret key, then public key. Keep it mode 0600.\n\(pair.secretKey)\n\(pair.publicKey)\n"
        try writeFile(secretPath, secretText, mode: 0o600)
        try writeFile(publicPath, "# ablate CURVE public key (Z85) of \(name)\n\(pair.publicKey)\n", mode: 0o644)
        return (secretPath, publicPath)
    }

    /// What a key file holds.
    public enum Kind: String, Sendable {
        case secret = "secret key file"
        case publicKey = "public key file"
    }

    /// The kind a key file declares: by its `ablate keygen` comment line (`# ablate CURVE secret key` or
    /// `# ablate CURVE public key`), else by its name (`.key` or `.pub`); nil when neither says.
    public static func declaredKind(path: String, text: String) -> Kind? {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("#") {
            if line.contains("CURVE secret key") { return .secret }
            if line.contains("CURVE public key") { return .publicKey }
        }
        if path.hasSuffix(".key") { return .secret }
        if path.hasSuffix(".pub") { return .publicKey }
        return nil
    }

    /// Reads a secret key file, refusing a public key file (whatever its mode) and one readable or writable by
    /// group or others.
    public static func readSecret(_ path: String) throws -> CurveKeyPair {
        let text = try readText(path)
        if declaredKind(path: path, text: text) == .publicKey {
            throw CurveKeyError(
                "\(path) is a public key file (.pub), not a secret key file: give the NAME.key that ablate keygen wrote with it"
            )
        }
        try requirePrivate(path)
        let lines = keyLines(text)
        guard let secret = lines.first else { throw CurveKeyError("\(path): no key in the file") }
        guard CurveKeys.isZ85Key(secret) else {
            throw CurveKeyError("\(path): the first key line is not a 40-character Z85 key")
        }
        let pair: CurveKeyPair
        do { pair = try CurveKeyPair(secretKey: secret) } catch { throw CurveKeyError("\(path): \(error)") }
        if lines.count > 1, lines[1] != pair.publicKey {
            throw CurveKeyError("\(path): the public key on the second line does not belong to the secret key")
        }
        return pair
    }

    /// Reads a public key file (`.pub`): one Z85 key line.
    /// A secret key file is refused with a message that says so (and never shows its key).
    public static func readPublic(_ path: String) throws -> String {
        let text = try readText(path)
        if declaredKind(path: path, text: text) == .secret {
            throw CurveKeyError(
                "\(path) is a secret key file (.key), not a public key file: give the NAME.pub that ablate keygen wrote with it"
            )
        }
        let lines = keyLines(text)
        guard lines.count == 1, let key = lines.first, CurveKeys.isZ85Key(key) else {
            throw CurveKeyError("\(path): expected one 40-character Z85 public key line")
        }
        return key
    }

    /// Throws unless `path` exists and its mode gives group and others no access (the `chmod 600` rule).
    /// The permission bits of `path` (`stat`), or an error naming it.
    static func permissions(_ path: String) throws -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CurveKeyError("\(path): cannot read (\(String(cString: strerror(errno))))")
        }
        return info.st_mode & 0o777
    }

    public static func requirePrivate(_ path: String) throws {
        let mode = try permissions(path)
        if mode & 0o077 != 0 {
            throw CurveKeyError(
                "\(path) is accessible by group or others (mode \(String(mode, radix: 8))); run: chmod 600 \(path)")
        }
    }

    /// The text of a key file.
    static func readText(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CurveKeyError("\(path): cannot read (\(error.localizedDescription))")
        }
    }

    /// The non-comment, trimmed lines of a key file's text.
    static func keyLines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// Writes through a temporary file created with `mode`, then renames it into place.
    private static func writeFile(_ path: String, _ text: String, mode: mode_t) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CurveKeyError("\(temporary): cannot create (\(String(cString: strerror(errno))))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        Glibc.close(fd)
        // chmod again: the process's umask may have narrowed the mode given to open.
        guard written == bytes.count, synced, chmod(temporary, mode) == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CurveKeyError("\(path): cannot write")
        }
    }
}
