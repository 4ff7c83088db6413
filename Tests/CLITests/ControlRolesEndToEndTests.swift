// ControlRolesEndToEndTests: with CURVE, keys in authorized/workers/ take cells and keys in authorized/clients/ act.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// A coordinator with CURVE and an allowlist of one worker key (`workers/gpu`) and one client key
/// (`clients/alice`): a worker process using the client key is never given a cell; the worker key's `cancel` is
/// refused; the client key lists, cancels and resumes (logged with its name); after the client key is removed and
/// SIGHUP reloads the allowlist, it gets no answer.
final class ControlRolesEndToEndTests: XCTestCase {
    func testWorkerKeysTakeCellsAndClientKeysAct() throws {
        let directory = TemporaryDirectory()
        let keys = directory.file("keys")
        for name in ["coordinator", "gpu", "alice"] {
            let result = try AblateBinary.run(["keygen", "--out", keys, "--name", name])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let authorized = directory.file("authorized")
        for (role, name) in [("workers", "gpu"), ("clients", "alice")] {
            try FileManager.default.createDirectory(atPath: "\(authorized)/\(role)", withIntermediateDirectories: true)
            chmod(authorized, 0o755)
            chmod("\(authorized)/\(role)", 0o755)
            try FileManager.default.copyItem(atPath: "\(keys)/\(name).pub", toPath: "\(authorized)/\(role)/\(name).pub")
        }
        let dataset = try LocalCluster.dataset(in: directory)
        let go = directory.file("go")
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                while [ ! -e "\(go)" ]; do sleep 0.05; done
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5}" >> "$1/metrics.jsonl"

                """)
        directory.write(
            "roles.yaml",
            text: """
                name: roles
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2]
                train: {epochs: 1, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}"]}
                variants:
                  base: {loss: cb_focal}

                """)
        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }
        try processes.start(
            "coordinator",
            [
                "coordinator", "--sweep", directory.file("roles.yaml"), "--state", directory.file("state"), "--bind",
                "tcp://127.0.0.1:*", "--heartbeat-ms", "400", "--keep-serving", "--curve-secret-key",
                "\(keys)/coordinator.key", "--authorized-keys", authorized,
            ])
        let log = try processes.waitForLog("coordinator", containing: "listening on", timeout: 60)
        XCTAssertTrue(log.contains("1 authorized worker key(s) and 1 client key(s)"), log)
        let endpoint = try XCTUnwrap(
            log.split(separator: "\n").first { $0.contains("listening on") }?.split(separator: " ").last.map(
                String.init))
        func curve(_ name: String) -> [String] {
            ["--curve-secret-key", "\(keys)/\(name).key", "--server-public-key", "\(keys)/coordinator.pub"]
        }
        // A worker with the client's key starts first: it would get the first cell if client keys were given cells.
        try processes.start(
            "intruder",
            ["worker", "--connect", endpoint, "--work-dir", directory.file("work-intruder"), "--name", "intruder"]
                + curve("alice"))
        try processes.waitForLog("coordinator", containing: "refused HELLO from client key clients/alice", timeout: 20)
        try processes.start(
            "gpu",
            ["worker", "--connect", endpoint, "--work-dir", directory.file("work-gpu"), "--name", "gpu"] + curve("gpu"))
        let state = directory.file("state")
        try processes.wait("a running cell", timeout: 30) {
            ((try? Ledger(readingDirectory: state).cells()) ?? []).contains { $0.state == .running }
        }

        let refused = try AblateBinary.run(["cancel", "roles", "--connect", endpoint] + curve("gpu"))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(
            refused.stderr.contains("key workers/gpu may not cancel: only keys in clients/ may"), refused.stderr)
        let cancel = try AblateBinary.run(["cancel", "roles", "--connect", endpoint] + curve("alice"))
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertTrue(cancel.stdout.contains("cancelled sweep roles"), cancel.stdout)
        try processes.waitForLog("coordinator", containing: "(by clients/alice)", timeout: 10)
        let listed = try AblateBinary.run(["sweeps", "--connect", endpoint, "--json"] + curve("alice"))
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains(#""cancelled_variants":["base"]"#), listed.stdout)

        _ = FileManager.default.createFile(atPath: go, contents: nil)
        XCTAssertEqual(try AblateBinary.run(["resume", "roles", "--connect", endpoint] + curve("alice")).status, 0)
        try processes.wait("both cells done", timeout: 60) {
            let cells = (try? Ledger(readingDirectory: state).cells()) ?? []
            return cells.count == 2 && cells.allSatisfy { $0.state == .done }
        }
        let ledger = try Ledger(readingDirectory: state)
        XCTAssertEqual(try ledger.workers().map(\.name), ["gpu"], "the client key never had a session")
        for cell in try ledger.cells() {
            XCTAssertEqual(Set(try ledger.attempts(cell: cell.id).map(\.worker)), ["gpu"])
        }
        try ledger.close()

        // Roles survive a reload: with the client key removed, it gets no answer.
        try FileManager.default.removeItem(atPath: "\(authorized)/clients/alice.pub")
        try processes.signal("coordinator", SIGHUP)
        try processes.waitForLog(
            "coordinator", containing: "authorized keys reloaded: 1 authorized worker key(s) and 0 client key(s)",
            timeout: 10)
        let gone = try AblateBinary.run(["sweeps", "--connect", endpoint, "--timeout", "2"] + curve("alice"))
        XCTAssertNotEqual(gone.status, 0)
        XCTAssertTrue(gone.stderr.contains("no answer from a coordinator"), gone.stderr)
    }
}
