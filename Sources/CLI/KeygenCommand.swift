// KeygenCommand: `ablate keygen`, write a CURVE key pair (NAME.key secret, mode 0600; NAME.pub public) in Z85.
import ArgumentParser
import CoordinatorKit
import Foundation
import WireProtocol

/// Writes a CURVE key pair for a coordinator or a worker (see docs/security.md).
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair: DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public), in Z85 text.",
        discussion:
            "Give the coordinator's .pub to every worker (--server-public-key) and put each worker's .pub in the coordinator's --authorized-keys directory."
    )

    @Option(name: [.short, .long], help: "Directory for the key files (created if missing).") var out: String
    @Option(help: "Key name: the files are NAME.key and NAME.pub (default: this host's name).") var name: String?

    func run() throws {
        guard ZeroMQ.has("curve") else {
            throw RunFailure(message: "this libzmq was built without CURVE support; install a libzmq with libsodium")
        }
        let keyName = name ?? ProcessInfo.processInfo.hostName
        let pair = try CurveKeyPair.generate()
        let paths = try CurveKeyFile.write(pair, directory: out, name: keyName)
        emit("secret key: \(paths.secret) (mode 0600; keep it on this machine)")
        emit("public key: \(paths.public) (fingerprint \(KeyFingerprint.of(pair.publicKey)))")
    }
}
