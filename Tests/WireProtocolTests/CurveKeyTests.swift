// CurveKeyTests: CURVE key pairs, Z85, key files and their permission checks, the allowlist directory, the bind rule.
import Foundation
import WireProtocol
import XCTest

/// Runs against the real libzmq (built with CURVE) and files in a temporary directory.
final class CurveKeyTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(ZeroMQ.has("curve"), "libzmq without CURVE")
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("curve-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func mode(_ path: String) throws -> Int {
        try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func testGeneratedPairsAreZ85AndTheSecretKeyDerivesThePublicOne() throws {
        let pair = try CurveKeyPair.generate()
        XCTAssertTrue(CurveKeys.isZ85Key(pair.publicKey))
        XCTAssertTrue(CurveKeys.isZ85Key(pair.secretKey))
        XCTAssertNotEqual(pair.publicKey, try CurveKeyPair.generate().publicKey)
        XCTAssertEqual(try CurveKeyPair(secretKey: pair.secretKey), pair)
        let bytes = try XCTUnwrap(CurveKeys.bytes(pair.publicKey))
        XCTAssertEqual(bytes.count, 32)
        XCTAssertEqual(CurveKeys.z85(bytes), pair.publicKey)
        XCTAssertNil(CurveKeys.z85([1, 2, 3]))
        XCTAssertNil(CurveKeys.bytes("short"))
        XCTAssertFalse(CurveKeys.isZ85Key(String(repeating: "~", count: 40)))
        XCTAssertThrowsError(try CurveKeyPair(secretKey: "not a key"))
    }

    func testKeyFilesRoundTripWithModes() throws {
        let pair = try CurveKeyPair.generate()
        let paths = try CurveKeyFile.write(pair, directory: directory, name: "w1")
        XCTAssertEqual(paths.secret, "\(directory)/w1.key")
        XCTAssertEqual(try mode(paths.secret), 0o600)
        XCTAssertEqual(try mode(paths.public), 0o644)
        XCTAssertEqual(try CurveKeyFile.readSecret(paths.secret), pair)
        XCTAssertEqual(try CurveKeyFile.readPublic(paths.public), pair.publicKey)
        XCTAssertThrowsError(try CurveKeyFile.write(pair, directory: directory, name: "w1")) { error in
            XCTAssertTrue("\(error)".contains("already exists"), "\(error)")
        }
        XCTAssertThrowsError(try CurveKeyFile.write(pair, directory: directory, name: "a/b"))
    }

    func testLooseSecretKeyFileIsRefusedWithTheFix() throws {
        let paths = try CurveKeyFile.write(try CurveKeyPair.generate(), directory: directory, name: "loose")
        for loose in [0o640, 0o604, 0o644] {
            chmod(paths.secret, mode_t(loose))
            XCTAssertThrowsError(try CurveKeyFile.readSecret(paths.secret)) { error in
                XCTAssertTrue("\(error)".contains("chmod 600 \(paths.secret)"), "\(error)")
            }
        }
        chmod(paths.secret, 0o400)
        XCTAssertNoThrow(try CurveKeyFile.readSecret(paths.secret))
    }

    func testMalformedKeyFilesNameTheFile() throws {
        let path = "\(directory)/bad.key"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data("# comment\nnot-a-key\n".utf8), attributes: [.posixPermissions: 0o600])
        XCTAssertThrowsError(try CurveKeyFile.readSecret(path)) { XCTAssertTrue("\($0)".hasPrefix(path), "\($0)") }
        let mismatched = "\(directory)/mismatch.key"
        let text = "\(try CurveKeyPair.generate().secretKey)\n\(try CurveKeyPair.generate().publicKey)\n"
        _ = FileManager.default.createFile(
            atPath: mismatched, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        XCTAssertThrowsError(try CurveKeyFile.readSecret(mismatched)) {
            XCTAssertTrue("\($0)".contains("does not belong"), "\($0)")
        }
        XCTAssertThrowsError(try CurveKeyFile.readPublic("\(directory)/missing.pub")) {
            XCTAssertTrue("\($0)".contains("missing.pub"), "\($0)")
        }
    }

    func testAuthorizedKeysDirectoryLoadsPubFilesAndRefusesWritableOnes() throws {
        let keysDirectory = "\(directory)/authorized"
        let first = try CurveKeyPair.generate()
        let second = try CurveKeyPair.generate()
        _ = try CurveKeyFile.write(first, directory: keysDirectory, name: "gpu0")
        _ = try CurveKeyFile.write(second, directory: keysDirectory, name: "gpu1")
        chmod(keysDirectory, 0o755)
        try FileManager.default.removeItem(atPath: "\(keysDirectory)/gpu0.key")
        try FileManager.default.removeItem(atPath: "\(keysDirectory)/gpu1.key")
        _ = FileManager.default.createFile(atPath: "\(keysDirectory)/README", contents: Data("ignored".utf8))
        XCTAssertEqual(
            try AuthorizedKeys.load(directory: keysDirectory),
            ["gpu0.pub": first.publicKey, "gpu1.pub": second.publicKey])
        chmod("\(keysDirectory)/gpu1.pub", 0o666)
        XCTAssertThrowsError(try AuthorizedKeys.load(directory: keysDirectory)) {
            XCTAssertTrue("\($0)".contains("chmod go-w"), "\($0)")
        }
        chmod("\(keysDirectory)/gpu1.pub", 0o644)
        chmod(keysDirectory, 0o777)
        XCTAssertThrowsError(try AuthorizedKeys.load(directory: keysDirectory))
    }

    func testOnlyLoopbackEndpointsAreLoopback() {
        for endpoint in [
            "ipc:///run/ablate.sock", "inproc://x", "tcp://127.0.0.1:5555", "tcp://127.1.2.3:*", "tcp://localhost:5555",
            "tcp://[::1]:5555", "tcp://::1:5555",
        ] {
            XCTAssertTrue(BindPolicy.isLoopback(endpoint), endpoint)
        }
        for endpoint in [
            "tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.77.0.1:5555", "tcp://[::]:5555", "tcp://eth0:5555",
            "tcp://128.0.0.1:5555", "tcp://127.0.0.256:1", "tcp://localhost.evil.com:1", "udp://127.0.0.1:1",
        ] {
            XCTAssertFalse(BindPolicy.isLoopback(endpoint), endpoint)
        }
    }

    func testAPublicKeyFileIsNeverTakenForASecretKey() throws {
        let paths = try CurveKeyFile.write(try CurveKeyPair.generate(), directory: directory, name: "server")
        // Even after the `chmod 600` a loose-mode message might suggest.
        for mode in [0o644, 0o600] {
            chmod(paths.public, mode_t(mode))
            XCTAssertThrowsError(try CurveKeyFile.readSecret(paths.public)) { error in
                XCTAssertTrue("\(error)".contains("is a public key file (.pub), not a secret key file"), "\(error)")
            }
        }
        // A copy under another name is still recognised by its header line.
        let copy = "\(directory)/server-copy"
        try FileManager.default.copyItem(atPath: paths.public, toPath: copy)
        chmod(copy, 0o600)
        XCTAssertThrowsError(try CurveKeyFile.readSecret(copy)) {
            XCTAssertTrue("\($0)".contains("is a public key file"), "\($0)")
        }
    }

    func testASecretKeyFileIsNeverTakenForAPublicKey() throws {
        let pair = try CurveKeyPair.generate()
        let paths = try CurveKeyFile.write(pair, directory: directory, name: "worker")
        XCTAssertThrowsError(try CurveKeyFile.readPublic(paths.secret)) { error in
            XCTAssertTrue("\(error)".contains("is a secret key file (.key), not a public key file"), "\(error)")
            XCTAssertFalse("\(error)".contains(pair.secretKey), "the message never shows the secret key")
        }
        // One key line, no header, named .key: still a secret key file.
        let bare = "\(directory)/bare.key"
        _ = FileManager.default.createFile(
            atPath: bare, contents: Data("\(pair.secretKey)\n".utf8), attributes: [.posixPermissions: 0o600])
        XCTAssertThrowsError(try CurveKeyFile.readPublic(bare)) {
            XCTAssertTrue("\($0)".contains("is a secret key file"), "\($0)")
        }
        XCTAssertEqual(try CurveKeyFile.readSecret(bare), pair, "a one-line secret key file stays valid")
        // A headerless file of another name is read by its content, as before.
        let pasted = "\(directory)/server.txt"
        _ = FileManager.default.createFile(
            atPath: pasted, contents: Data("\(pair.publicKey)\n".utf8), attributes: [.posixPermissions: 0o644])
        XCTAssertEqual(try CurveKeyFile.readPublic(pasted), pair.publicKey)
        XCTAssertEqual(CurveKeyFile.declaredKind(path: pasted, text: pair.publicKey), nil)
    }
}
