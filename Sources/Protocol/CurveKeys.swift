// CurveKeys: CurveZMQ (ZeroMQ CURVE security) key pairs in Z85 text form and the socket options that use them.
import CZeroMQ

/// A bad key or key file: what is wrong and where, in one line.
public struct CurveKeyError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A CURVE key pair as two 40-character Z85 strings.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh key pair from libzmq (`zmq_curve_keypair`; needs libzmq built with CURVE).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicBuffer = [CChar](repeating: 0, count: Int(CurveKeys.z85Length) + 1)
        var secretBuffer = [CChar](repeating: 0, count: Int(CurveKeys.z85Length) + 1)
        guard zmq_curve_keypair(&publicBuffer, &secretBuffer) == 0 else { throw .current("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: CurveKeys.string(publicBuffer), secretKey: CurveKeys.string(secretBuffer))
    }

    /// The pair of a secret key (its public key derived with `zmq_curve_public`).
    public init(secretKey: String) throws(CurveKeyError) {
        guard CurveKeys.isZ85Key(secretKey) else { throw CurveKeyError("not a 40-character Z85 CURVE key") }
        var publicBuffer = [CChar](repeating: 0, count: Int(CurveKeys.z85Length) + 1)
        guard zmq_curve_public(&publicBuffer, secretKey) == 0 else {
            throw CurveKeyError("cannot derive the public key: \(ZeroMQ.errorText(zmq_errno()))")
        }
        self.init(publicKey: CurveKeys.string(publicBuffer), secretKey: secretKey)
    }
}

/// Z85 encoding of 32-byte CURVE keys and the checks on key text.
public enum CurveKeys {
    /// Characters of a Z85-encoded 32-byte key.
    public static let z85Length = 40
    static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")

    /// Whether `text` is 40 Z85 characters.
    public static func isZ85Key(_ text: String) -> Bool {
        text.count == z85Length && text.allSatisfy { alphabet.contains($0) }
    }

    /// Z85 text of a 32-byte key (as the ZAP request carries it), or nil when it is not 32 bytes.
    public static func z85(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 32 else { return nil }
        var buffer = [CChar](repeating: 0, count: z85Length + 1)
        guard zmq_z85_encode(&buffer, bytes, bytes.count) != nil else { return nil }
        return string(buffer)
    }

    /// The 32 bytes of a Z85 key, or nil when the text is not one.
    public static func bytes(_ z85: String) -> [UInt8]? {
        guard isZ85Key(z85) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&buffer, z85) != nil else { return nil }
        return buffer
    }

    static func string(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The keys a CURVE client (worker, status client) uses: its own pair and the coordinator's public key.
public struct CurveClientKeys: Sendable, Equatable {
    public let pair: CurveKeyPair
    public let serverPublicKey: String

    public init(pair: CurveKeyPair, serverPublicKey: String) {
        self.pair = pair
        self.serverPublicKey = serverPublicKey
    }

    /// Reads `--curve-secret-key FILE --server-public-key FILE`.
    public static func load(secretKeyFile: String, serverPublicKeyFile: String) throws -> CurveClientKeys {
        CurveClientKeys(
            pair: try CurveKeyFile.readSecret(secretKeyFile),
            serverPublicKey: try CurveKeyFile.readPublic(serverPublicKeyFile))
    }
}

extension ZMQSocket {
    /// The ZAP domain the coordinator sets; a non-empty domain keeps ZAP on whatever libzmq's default.
    public static let zapDomain = "ablate"

    /// Makes a socket the CURVE server (the binding side), before `bind`: its secret key and the ZAP domain.
    /// Start a `ZAPHandler` on the same context first, or every client that knows the public key is admitted.
    public func configureCurveServer(secretKey: String) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVER, Int32(1))
        try setOption(ZMQ_CURVE_SECRETKEY, string: secretKey)
        try setOption(ZMQ_ZAP_DOMAIN, string: Self.zapDomain)
    }

    /// Makes a socket a CURVE client, before `connect`.
    public func configureCurveClient(_ keys: CurveClientKeys) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, string: keys.serverPublicKey)
        try setOption(ZMQ_CURVE_PUBLICKEY, string: keys.pair.publicKey)
        try setOption(ZMQ_CURVE_SECRETKEY, string: keys.pair.secretKey)
    }
}
