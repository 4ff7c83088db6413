// CoordinatorSecurity: the coordinator's CURVE settings, its ZAP gate (allowlist reloads, rejection log) and key fingerprints.
import Crypto
import Foundation
import Logging
import WireProtocol

/// CURVE for the coordinator's ROUTER: its key pair and the directory of authorized worker `.pub` files.
public struct CoordinatorSecurity: Sendable {
    public let pair: CurveKeyPair
    public let authorizedKeysDirectory: String

    public init(pair: CurveKeyPair, authorizedKeysDirectory: String) {
        self.pair = pair
        self.authorizedKeysDirectory = authorizedKeysDirectory
    }

    /// Reads `--curve-secret-key FILE` (refused when group or others can read it) and checks the directory loads.
    public static func load(secretKeyFile: String, authorizedKeysDirectory: String) throws -> CoordinatorSecurity {
        let security = CoordinatorSecurity(
            pair: try CurveKeyFile.readSecret(secretKeyFile), authorizedKeysDirectory: authorizedKeysDirectory)
        _ = try AuthorizedKeys.loadKeys(directory: authorizedKeysDirectory)
        return security
    }
}

/// Short, stable names for public keys in logs.
public enum KeyFingerprint {
    /// The first 16 hex digits of the SHA-256 of the key's 32 bytes (of its text when it is not a Z85 key).
    public static func of(_ z85: String) -> String {
        let bytes = CurveKeys.bytes(z85) ?? Array(z85.utf8)
        return SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

/// The ZAP handler of one coordinator run: started before the ROUTER binds, fed the allowlist again on request,
/// and asked by the loop for what it decided (rejections are logged with the key's fingerprint).
final class CurveGate {
    let security: CoordinatorSecurity
    private let handler: ZAPHandler
    private let logger: Logger

    /// Loads the allowlist and starts the handler on `context`.
    init(security: CoordinatorSecurity, context: ZMQContext, logger: Logger) throws {
        self.security = security
        self.logger = logger
        let keys = try AuthorizedKeys.loadKeys(directory: security.authorizedKeysDirectory)
        handler = ZAPHandler(context: context, users: Self.users(keys))
        try handler.start()
        logger.info(
            "CURVE on: server key \(KeyFingerprint.of(security.pair.publicKey)), \(Self.counts(keys)) in \(security.authorizedKeysDirectory)"
        )
    }

    /// Public key → the key's name (`workers/gpu0`, `clients/alice`), the User-Id the handler answers.
    static func users(_ keys: [AuthorizedKey]) -> [String: String] {
        Dictionary(keys.map { ($0.publicKey, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// `2 worker key(s) and 1 client key(s)`.
    static func counts(_ keys: [AuthorizedKey]) -> String {
        let workers = keys.filter { $0.role == .worker }.count
        return "\(workers) authorized worker key(s) and \(keys.count - workers) client key(s)"
    }

    func stop() { handler.stop() }

    /// Reads the authorized keys again; on an error the previous allowlist stays and the error is logged.
    func reload() {
        do {
            let keys = try AuthorizedKeys.loadKeys(directory: security.authorizedKeysDirectory)
            handler.replaceUsers(Self.users(keys))
            logger.notice("authorized keys reloaded: \(Self.counts(keys))")
        } catch {
            logger.error("authorized keys not reloaded (the previous list stays): \(error)")
        }
    }

    /// The handler's decisions since the last call: the counter to add (`zap_accepted`, `zap_rejected`) and, for a
    /// rejection, the line to log (the caller rate-limits it).
    func drain() -> [(counter: String, line: String?)] {
        handler.takeDecisions().map { decision in
            if decision.accepted { return ("zap_accepted", nil) }
            let who =
                decision.publicKey.isEmpty
                ? "no CURVE key (\(decision.mechanism))" : "key \(KeyFingerprint.of(decision.publicKey))"
            return ("zap_rejected", "refused a connection from \(decision.address): \(who) is not authorized")
        }
    }
}
