// MultiHostTests: coordinator and workers on separate "hosts" (network namespaces from scripts/netns-lab.sh) with
// CURVE — a sweep completes, a cut link requeues a cell without a duplicate result, an unlisted key gets nothing.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Hosts: a = coordinator (10.77.0.1), b and c = authorized workers, d = a worker whose key is not listed.
/// Needs root and iproute2; skipped with the reason otherwise. The namespaces are removed whatever happens.
final class MultiHostTests: XCTestCase {
    private var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    private func lab(_ arguments: [String], prefix: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try Subprocess.capture(
            "/bin/bash", ["\(root)/scripts/netns-lab.sh"] + arguments, environment: ["ABLATE_NETNS_PREFIX": prefix])
    }

    func testSweepAcrossNamespacesSurvivesACutLinkAndRefusesAnUnlistedKey() throws {
        guard getuid() == 0 else { throw XCTSkip("multi-host test needs root (ip netns); skipped") }
        guard
            ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].contains(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw XCTSkip("multi-host test needs iproute2's ip; skipped")
        }
        let prefix = "abl\(getpid() % 100_000)"
        defer { _ = try? lab(["down"], prefix: prefix) }
        let up = try lab(["up"], prefix: prefix)
        guard up.status == 0 else {
            throw XCTSkip(
                "cannot create network namespaces here (\(up.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); skipped"
            )
        }

        let directory = TemporaryDirectory()
        for name in ["coordinator", "b", "c", "d"] {
            XCTAssertEqual(try AblateBinary.run(["keygen", "--out", directory.file("keys"), "--name", name]).status, 0)
        }
        let keys = directory.file("keys")
        let authorized = directory.file("authorized")
        try FileManager.default.createDirectory(atPath: authorized, withIntermediateDirectories: true)
        chmod(authorized, 0o755)
        for name in ["b", "c"] {
            try FileManager.default.copyItem(atPath: "\(keys)/\(name).pub", toPath: "\(authorized)/\(name).pub")
        }
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: multihost
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: a
                seeds: [1]
                train: {width: 16, epochs: 8, max_train_rows: 1200, max_val_rows: 300}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}

                """)
        let state = directory.file("state")
        let endpoint = "tcp://10.77.0.1:5555"
        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }
        func on(_ host: String) -> [String] { ["/bin/bash", "\(root)/scripts/netns-lab.sh", "exec", host] }
        let environment = ["ABLATE_NETNS_PREFIX": prefix]
        func worker(_ name: String) -> [String] {
            [
                "worker", "--connect", endpoint, "--work-dir", directory.file("work-\(name)"), "--name", name,
                "--curve-secret-key", "\(keys)/\(name).key", "--server-public-key", "\(keys)/coordinator.pub",
            ]
        }

        try processes.start(
            "coordinator",
            [
                "coordinator", "--sweep", directory.file("sweep.yaml"), "--state", state, "--bind", endpoint,
                "--heartbeat-ms", "400", "--liveness", "5", "--keep-serving",
                "--curve-secret-key", "\(keys)/coordinator.key", "--authorized-keys", authorized,
            ],
            environment: environment, wrapper: on("a"))
        try processes.waitForLog("coordinator", containing: "listening on \(endpoint)", timeout: 60)
        try processes.start("d", worker("d"), environment: environment, wrapper: on("d"))
        try processes.start("b", worker("b"), environment: environment, wrapper: on("b"))
        func cells() -> [CellRecord] { (try? Ledger(readingDirectory: state).cells()) ?? [] }

        // b alone takes the stage-1 job and then the stage-2 cell; once that has a stored checkpoint, c joins idle.
        var victim: CellRecord?
        try processes.wait("the stage-2 cell on b with a checkpoint", timeout: 90) {
            victim = cells().first {
                $0.stage == "2" && $0.worker == "b" && $0.state == .running && $0.resumeEpoch >= 1
            }
            return victim != nil
        }
        let cell = try XCTUnwrap(victim)
        try processes.start("c", worker("c"), environment: environment, wrapper: on("c"))
        try processes.waitForLog("c", containing: "connected: session", timeout: 20)

        // Cut b's cable for longer than the liveness window (5 × 200 ms): the cell goes to c.
        XCTAssertEqual(try lab(["link", "b", "down"], prefix: prefix).status, 0)
        try processes.wait("the cell requeued on c", timeout: 30) {
            cells().first { $0.id == cell.id }.map { $0.worker == "c" && $0.attempt == cell.attempt + 1 } ?? false
        }
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try lab(["link", "b", "up"], prefix: prefix).status, 0)

        // b comes back (a new session) and learns its attempt was superseded; the sweep still ends once.
        try processes.wait("b to reconnect", timeout: 40) {
            processes.logText("b").components(separatedBy: "connected: session").count > 2
        }
        try processes.wait("both cells done", timeout: 90) {
            cells().count == 2 && cells().allSatisfy { $0.state == .done }
        }
        try processes.wait("b to drop its superseded attempt", timeout: 20) {
            let log = processes.logText("b")
            return log.contains("attempt \(cell.attempt) dropped") || log.contains("attempt \(cell.attempt): stale")
        }
        try processes.signal("coordinator", SIGTERM)
        XCTAssertEqual(try processes.waitForExit("coordinator", timeout: 30), 0, processes.tails())
        let ledger = try Ledger(readingDirectory: state)
        let finished = try ledger.cells()
        XCTAssertEqual(finished.map(\.state), [.done, .done], processes.tails())
        for record in finished {
            let attempts = try ledger.attempts(cell: record.id)
            XCTAssertEqual(
                attempts.filter { $0.outcome == "done" }.count, 1, "cell \(record.variant) is done exactly once")
        }
        let attempts = try ledger.attempts(cell: cell.id)
        XCTAssertEqual(attempts.map(\.attempt), [cell.attempt, cell.attempt + 1], "the fence: b's attempt, then c's")
        XCTAssertEqual(attempts.map(\.worker), ["b", "c"])
        XCTAssertEqual(attempts.first?.outcome, "lost")
        XCTAssertEqual(attempts.last?.outcome, "done")
        // One result, not a mix: one metrics line per epoch, in order, and the summary of c's attempt.
        let run = "\(state)/runs/\(cell.variant)/seed-\(cell.seed)"
        let lines = try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let epochs = try lines.map { line -> Int in
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try XCTUnwrap(object["epoch"] as? Int)
        }
        XCTAssertEqual(epochs.count, 8, "one line per epoch")
        XCTAssertEqual(Set(epochs).count, epochs.count, "no epoch twice")
        XCTAssertEqual(epochs, epochs.sorted())
        XCTAssertEqual(try ledger.metrics(cell: cell.id, attempt: cell.attempt + 1).last?.epoch, 8)

        // d never had a session and was refused with its key's fingerprint.
        XCTAssertFalse(try ledger.workers().contains { $0.name == "d" })
        let dKey = try XCTUnwrap(
            try String(contentsOfFile: "\(keys)/d.pub", encoding: .utf8).split(separator: "\n").last.map(String.init))
        XCTAssertTrue(
            processes.logText("coordinator").contains("key \(KeyFingerprint.of(dKey)) is not authorized"),
            processes.tails())
        XCTAssertFalse(processes.logText("d").contains("assigned"))
        XCTAssertTrue(processes.logText("c").contains("assigned"))
    }
}
