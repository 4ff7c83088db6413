// CurveEndToEndTests: real processes with CURVE — keygen, key kind, permission and bind refusals, a listed worker
// completes a sweep while unlisted, plaintext and wrong-server-key ones get nothing (each refusal counted and logged),
// and a removed key is locked out after SIGHUP.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class CurveEndToEndTests: XCTestCase {
    /// `ablate keygen` into `directory/keys`; returns the public key text.
    private func keygen(_ directory: TemporaryDirectory, _ name: String) throws -> String {
        let result = try AblateBinary.run(["keygen", "--out", directory.file("keys"), "--name", name])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("fingerprint"), result.stdout)
        let text = try String(contentsOfFile: directory.file("keys/\(name).pub"), encoding: .utf8)
        return try XCTUnwrap(text.split(separator: "\n").last.map(String.init))
    }

    private func authorize(_ directory: TemporaryDirectory, _ name: String) throws {
        try FileManager.default.copyItem(
            atPath: directory.file("keys/\(name).pub"), toPath: directory.file("authorized/\(name).pub"))
    }

    func testKeygenPermissionsAndTheLoopbackRule() throws {
        let directory = TemporaryDirectory()
        _ = try keygen(directory, "coordinator")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("keys/coordinator.key"))
        XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o600)
        XCTAssertNotEqual(
            try AblateBinary.run(["keygen", "--out", directory.file("keys"), "--name", "coordinator"]).status, 0,
            "keygen refuses to overwrite")
        let sweep = try LocalCluster.tinySweep(in: directory, name: "curve")
        try FileManager.default.createDirectory(atPath: directory.file("authorized"), withIntermediateDirectories: true)
        chmod(directory.file("authorized"), 0o755)
        let base = ["coordinator", "--sweep", sweep, "--state", directory.file("state")]

        chmod(directory.file("keys/coordinator.key"), 0o644)
        let loose = try AblateBinary.run(
            base + [
                "--bind", "tcp://127.0.0.1:0", "--curve-secret-key", directory.file("keys/coordinator.key"),
                "--authorized-keys", directory.file("authorized"),
            ])
        XCTAssertNotEqual(loose.status, 0)
        XCTAssertTrue(
            (loose.stdout + loose.stderr).contains("chmod 600 \(directory.file("keys/coordinator.key"))"), loose.stderr)
        chmod(directory.file("keys/coordinator.key"), 0o600)

        // The public key file, even at mode 0600, is not taken for the secret key.
        chmod(directory.file("keys/coordinator.pub"), 0o600)
        let publicAsSecret = try AblateBinary.run(
            base + [
                "--bind", "tcp://127.0.0.1:0", "--curve-secret-key", directory.file("keys/coordinator.pub"),
                "--authorized-keys", directory.file("authorized"),
            ])
        XCTAssertNotEqual(publicAsSecret.status, 0)
        XCTAssertTrue(
            (publicAsSecret.stdout + publicAsSecret.stderr).contains(
                "is a public key file (.pub), not a secret key file"), publicAsSecret.stderr)
        XCTAssertFalse(publicAsSecret.stderr.contains("CURVE on"), publicAsSecret.stderr)

        let open = try AblateBinary.run(base + ["--bind", "tcp://0.0.0.0:0"])
        XCTAssertNotEqual(open.status, 0)
        XCTAssertTrue(open.stderr.contains("not a loopback address"), open.stderr)
        XCTAssertNotEqual(
            try AblateBinary.run(
                base + ["--bind", "tcp://0.0.0.0:0", "--curve-secret-key", directory.file("keys/coordinator.key")]
            ).status, 0,
            "the key flags come in pairs")

        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }
        try processes.start("insecure", base + ["--bind", "tcp://0.0.0.0:*", "--insecure", "--keep-serving"])
        let log = try processes.waitForLog("insecure", containing: "listening on", timeout: 60)
        XCTAssertTrue(log.contains("warning coordinator: serving tcp://0.0.0.0:* without CURVE"), log)
    }

    func testOnlyListedKeysGetJobsAndARemovedKeyIsLockedOutAfterSIGHUP() throws {
        let directory = TemporaryDirectory()
        _ = try keygen(directory, "coordinator")
        _ = try keygen(directory, "good")
        let badKey = try keygen(directory, "bad")
        try FileManager.default.createDirectory(atPath: directory.file("authorized"), withIntermediateDirectories: true)
        chmod(directory.file("authorized"), 0o755)
        try authorize(directory, "good")
        let sweep = try LocalCluster.tinySweep(in: directory, name: "curve")
        let keys = directory.file("keys")
        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }

        try processes.start(
            "coordinator",
            [
                "coordinator", "--sweep", sweep, "--state", directory.file("state"), "--bind", "tcp://127.0.0.1:*",
                "--heartbeat-ms", "400", "--keep-serving",
                "--curve-secret-key", "\(keys)/coordinator.key", "--authorized-keys", directory.file("authorized"),
            ])
        let log = try processes.waitForLog("coordinator", containing: "listening on", timeout: 60)
        XCTAssertTrue(log.contains("CURVE on"), log)
        let endpoint = try XCTUnwrap(
            log.split(separator: "\n").first { $0.contains("listening on") }?.split(separator: " ").last.map(
                String.init))
        func worker(_ name: String, key: String?) -> [String] {
            ["worker", "--connect", endpoint, "--work-dir", directory.file("work-\(name)"), "--name", name]
                + (key.map {
                    ["--curve-secret-key", "\(keys)/\($0).key", "--server-public-key", "\(keys)/coordinator.pub"]
                } ?? [])
        }
        // The unlisted and plaintext workers start first, so they would get the first cell if they were admitted.
        try processes.start("bad", worker("bad", key: "bad"))
        try processes.start("plain", worker("plain", key: nil))
        // A listed key with the wrong server key: its handshake cannot be decrypted.
        try processes.start(
            "wrongserver",
            [
                "worker", "--connect", endpoint, "--work-dir", directory.file("work-wrongserver"), "--name",
                "wrongserver",
                "--curve-secret-key", "\(keys)/good.key", "--server-public-key", "\(keys)/bad.pub",
            ])
        try processes.waitForLog(
            "coordinator", containing: "key \(KeyFingerprint.of(badKey)) is not authorized", timeout: 20)
        try processes.waitForLog("coordinator", containing: "the client does not use CURVE", timeout: 20)
        try processes.waitForLog("coordinator", containing: "it uses another server public key", timeout: 20)
        try processes.start("good", worker("good", key: "good"))

        let state = directory.file("state")
        try processes.wait("both cells done", timeout: 180) {
            let cells = (try? Ledger(readingDirectory: state).cells()) ?? []
            return cells.count == 2 && cells.allSatisfy { $0.state == .done }
        }
        let ledger = try Ledger(readingDirectory: state)
        XCTAssertEqual(try ledger.workers().map(\.name), ["good"], "only the listed worker ever had a session")
        for cell in try ledger.cells() {
            XCTAssertEqual(try ledger.attempts(cell: cell.id).map(\.worker), ["good"])
        }
        XCTAssertGreaterThanOrEqual(try ledger.counters()["zap_rejected"] ?? 0, 1)
        XCTAssertFalse(processes.logText("bad").contains("assigned"))
        XCTAssertFalse(processes.logText("plain").contains("assigned"))

        // `ablate status --connect` with a listed key works; without keys it gets no answer.
        let status = [
            "status", "--connect", endpoint, "--curve-secret-key", "\(keys)/good.key", "--server-public-key",
            "\(keys)/coordinator.pub",
        ]
        let listed = try AblateBinary.run(status)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("sweep curve"), listed.stdout)
        XCTAssertNotEqual(try AblateBinary.run(["status", "--connect", endpoint]).status, 0)

        // Remove the key and reload: the next connection with it is refused.
        try FileManager.default.removeItem(atPath: directory.file("authorized/good.pub"))
        try processes.signal("coordinator", SIGHUP)
        try processes.waitForLog(
            "coordinator", containing: "authorized keys reloaded: 0 authorized worker key(s) and 0 client key(s)",
            timeout: 10)
        let refused = try AblateBinary.run(status)
        XCTAssertNotEqual(refused.status, 0, "a removed key is locked out at its next connection")
        XCTAssertTrue(
            refused.stderr.contains("is this key's public half in its authorized keys"),
            "the likely cause is named: \(refused.stderr)")
        XCTAssertTrue(refused.stderr.contains("no answer"), refused.stderr)
        try processes.signal("coordinator", SIGTERM)
        XCTAssertEqual(try processes.waitForExit("coordinator", timeout: 20), 0)
        let counters = try Ledger(readingDirectory: state).counters()
        for name in [
            "handshake_refused_mechanism", "handshake_refused_cryptographic", "handshake_refused_authentication",
        ] {
            XCTAssertGreaterThanOrEqual(counters[name] ?? 0, 1, "\(name): \(counters)")
        }
    }
}
