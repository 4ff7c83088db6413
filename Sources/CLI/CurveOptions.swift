// CurveOptions: the CURVE key flags shared by `ablate worker` and `ablate status`, and the coordinator's bind rule.
import ArgumentParser
import CoordinatorKit
import Foundation
import Logging
import WireProtocol

/// `--curve-secret-key FILE --server-public-key FILE`: both or neither.
struct CurveClientOptions: ParsableArguments {
    @Option(
        name: .customLong("curve-secret-key"),
        help: ArgumentHelp("This client's CURVE secret key file (from `ablate keygen`; mode 0600).", valueName: "FILE"))
    var curveSecretKey: String?
    @Option(
        name: .customLong("server-public-key"),
        help: ArgumentHelp("The coordinator's CURVE public key file (.pub).", valueName: "FILE"))
    var serverPublicKey: String?

    func validate() throws {
        guard (curveSecretKey == nil) == (serverPublicKey == nil) else {
            throw ValidationError("give both --curve-secret-key and --server-public-key, or neither")
        }
    }

    /// The loaded keys, or nil for a plaintext connection.
    func keys() throws -> CurveClientKeys? {
        guard let curveSecretKey, let serverPublicKey else { return nil }
        return try CurveClientKeys.load(secretKeyFile: curveSecretKey, serverPublicKeyFile: serverPublicKey)
    }
}

/// The coordinator's `--curve-secret-key FILE --authorized-keys DIR --insecure`.
struct CurveServerOptions: ParsableArguments {
    @Option(
        name: .customLong("curve-secret-key"),
        help: ArgumentHelp(
            "The coordinator's CURVE secret key file (from `ablate keygen`; mode 0600).", valueName: "FILE"))
    var curveSecretKey: String?
    @Option(
        name: .customLong("authorized-keys"),
        help: ArgumentHelp(
            "Directory of the workers' .pub files allowed to connect (re-read on SIGHUP).", valueName: "DIR"))
    var authorizedKeys: String?
    @Flag(
        help: "Allow a non-loopback bind without CURVE (anyone who can reach the port can take jobs and send results).")
    var insecure = false

    func validate() throws {
        guard (curveSecretKey == nil) == (authorizedKeys == nil) else {
            throw ValidationError("give both --curve-secret-key and --authorized-keys, or neither")
        }
    }

    /// The security for binding `endpoint`: CURVE when keys are given; plaintext on loopback, or with `--insecure`
    /// (warned about); otherwise an error saying what to do.
    func security(endpoint: String, logger: Logger) throws -> CoordinatorSecurity? {
        if let curveSecretKey, let authorizedKeys {
            return try CoordinatorSecurity.load(secretKeyFile: curveSecretKey, authorizedKeysDirectory: authorizedKeys)
        }
        if BindPolicy.isLoopback(endpoint) { return nil }
        guard insecure else {
            throw RunFailure(
                message:
                    "--bind \(endpoint) is not a loopback address: give --curve-secret-key FILE --authorized-keys DIR (see docs/security.md), or --insecure to serve it unauthenticated"
            )
        }
        logger.warning(
            "serving \(endpoint) without CURVE (--insecure): anyone who can reach it can take jobs and send results")
        return nil
    }
}
