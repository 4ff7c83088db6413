// LabSubmitEndToEndTests: `ablate submit` to a running lab — client keys, uploads, restarts and kills mid-submit.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Real processes on loopback: a lab coordinator, workers, and `ablate submit` from "researchers" whose sweeps name
/// a dataset file and an input that only their side has (deleted after the upload in one test).
final class LabSubmitEndToEndTests: XCTestCase {
    /// With CURVE: alice and bob (keys in `clients/`) each submit a sweep to one running lab; the worker key's
    /// submit is refused; both sweeps run on the same two workers; a SIGKILL and a restart in the middle change
    /// nothing; each cell ends done by exactly one attempt, and the same submission again is answered as accepted
    /// with nothing uploaded.
    func testTwoResearchersShareTheWorkers() throws {
        let directory = TemporaryDirectory()
        let keys = directory.file("keys")
        for name in ["coordinator", "gpu", "alice", "bob"] {
            let result = try AblateBinary.run(["keygen", "--out", keys, "--name", name])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let authorized = directory.file("authorized")
        for (role, name) in [("workers", "gpu"), ("clients", "alice"), ("clients", "bob")] {
            try FileManager.default.createDirectory(atPath: "\(authorized)/\(role)", withIntermediateDirectories: true)
            chmod(authorized, 0o755)
            chmod("\(authorized)/\(role)", 0o755)
            try FileManager.default.copyItem(atPath: "\(keys)/\(name).pub", toPath: "\(authorized)/\(role)/\(name).pub")
        }
        let alice = writeSweep(in: directory, name: "alice-loss", owner: "alice", megabytes: 1)
        let bob = writeSweep(in: directory, name: "bob-bn", owner: "bob", megabytes: 1)
        let state = directory.file("lab")
        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }
        func startLab(_ name: String) throws -> String {
            try processes.start(
                name,
                [
                    "coordinator", "--lab", "--state", state, "--bind", "tcp://127.0.0.1:*", "--heartbeat-ms", "400",
                    "--restart-grace-ms", "3000", "--curve-secret-key", "\(keys)/coordinator.key",
                    "--authorized-keys", authorized,
                ])
            let log = try processes.waitForLog(name, containing: "lab listening on", timeout: 60)
            return try XCTUnwrap(
                log.split(separator: "\n").first { $0.contains("lab listening on") }?.split(separator: " ")
                    .first { $0.hasPrefix("tcp://") }.map { String($0).trimmingCharacters(in: .punctuationCharacters) })
        }
        var endpoint = try startLab("lab")
        func curve(_ name: String) -> [String] {
            ["--curve-secret-key", "\(keys)/\(name).key", "--server-public-key", "\(keys)/coordinator.pub"]
        }

        let refused = try AblateBinary.run(["submit", alice, "--connect", endpoint] + curve("gpu"))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("key workers/gpu may not submit"), refused.stderr)

        let first = try AblateBinary.run(["submit", alice, "--connect", endpoint, "--json"] + curve("alice"))
        XCTAssertEqual(first.status, 0, first.stderr + processes.tails())
        let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(answer["sweep"] as? String, "alice-loss")
        XCTAssertEqual(answer["cells"] as? Int, 4)
        XCTAssertEqual(answer["uploaded_files"] as? Int, 2, "the dataset and the input")
        let second = try AblateBinary.run(["submit", bob, "--connect", endpoint, "--priority", "0"] + curve("bob"))
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("submitted sweep bob-bn: 4 cells"), second.stdout)
        try processes.waitForLog("lab", containing: "sweep alice-loss submitted by clients/alice", timeout: 10)

        for worker in ["gpu1", "gpu2"] {
            try processes.start(
                worker,
                [
                    "worker", "--connect", endpoint, "--work-dir", directory.file("work-\(worker)"), "--name", worker,
                ] + curve("gpu"))
        }
        try processes.wait("a running cell of each sweep", timeout: 60) {
            running(state, "alice-loss") == 1 && running(state, "bob-bn") == 1
        }
        // A SIGKILL in the middle; the restarted lab serves both submitted sweeps from its directory.
        try processes.signal("lab", SIGKILL)
        _ = try processes.waitForExit("lab", timeout: 10)
        endpoint = try startLab("lab2")
        for worker in ["gpu1", "gpu2"] { try processes.signal(worker, SIGKILL) }
        for worker in ["gpu3", "gpu4"] {
            try processes.start(
                worker,
                [
                    "worker", "--connect", endpoint, "--work-dir", directory.file("work-\(worker)"), "--name", worker,
                ] + curve("gpu"))
        }
        _ = FileManager.default.createFile(atPath: directory.file("go"), contents: nil)
        try processes.wait("both sweeps done", timeout: 120) {
            ["alice-loss", "bob-bn"].allSatisfy { name in
                let cells = Self.cells(state, name)
                return cells.count == 4 && cells.allSatisfy { $0.state == .done }
            }
        }
        for name in ["alice-loss", "bob-bn"] {
            let ledger = try Ledger(readingDirectory: "\(state)/sweeps/\(name)")
            defer { try? ledger.close() }
            for cell in try ledger.plannedCells() {
                let outcomes = try ledger.attempts(cell: cell.id).map(\.outcome)
                XCTAssertEqual(outcomes.filter { $0 == "done" }.count, 1, "\(name) \(cell.variant)/\(cell.seed)")
            }
        }
        // Each cell saw its owner's input, uploaded and rebuilt on the worker.
        XCTAssertTrue(
            Self.text(directory.file("seen.log")).contains("alice notes"), Self.text(directory.file("seen.log")))
        XCTAssertTrue(Self.text(directory.file("seen.log")).contains("bob notes"))

        let again = try AblateBinary.run(["submit", alice, "--connect", endpoint, "--json"] + curve("alice"))
        XCTAssertEqual(again.status, 0, again.stderr)
        let repeated = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(repeated["uploaded_bytes"] as? Int, 0, "the same submission again uploads nothing")
    }

    /// A lab SIGKILLed while an upload is halfway and again right after a submission is written: the client's
    /// next `ablate submit` continues the upload where it stopped, the sweep is served after the restart, and
    /// it finishes on a worker with every cell done once.
    func testKillsDuringUploadAndSubmit() throws {
        let directory = TemporaryDirectory()
        let sweep = writeSweep(in: directory, name: "fragile", owner: "carol", megabytes: 2)
        let cluster = LocalCluster(directory: directory, name: "killed")
        defer { cluster.stopAll() }
        let marker = directory.file("paused")

        // 1. Paused after the third UPLOAD's bytes are written, then killed.
        try cluster.startLab(sweeps: [], arguments: ["--fault-pause", "upload:3", "--fault-marker", marker])
        let client = try launchLogged(
            [AblateBinary.path, "submit", sweep, "--connect", cluster.endpoint, "--timeout", "5"], environment: [:],
            log: directory.file("submit1.log"))
        try cluster.wait("the lab paused in an upload", timeout: 60) { FileManager.default.fileExists(atPath: marker) }
        try cluster.killCoordinator()
        client.waitUntilExit()
        XCTAssertNotEqual(client.terminationStatus, 0, "the client got no answer")
        try FileManager.default.removeItem(atPath: marker)

        // 2. Restarted, paused right after the submission is written, then killed.
        try cluster.startLab(sweeps: [], arguments: ["--fault-pause", "submit:1", "--fault-marker", marker])
        let resumed = try launchLogged(
            [AblateBinary.path, "submit", sweep, "--connect", cluster.endpoint, "--timeout", "5", "--json"],
            environment: [:], log: directory.file("submit2.log"))
        try cluster.wait("the lab paused after writing the submission", timeout: 60) {
            FileManager.default.fileExists(atPath: marker)
        }
        try cluster.killCoordinator()
        resumed.waitUntilExit()
        try FileManager.default.removeItem(atPath: marker)
        let parts = try FileManager.default.contentsOfDirectory(atPath: "\(cluster.state)/uploads")
        XCTAssertTrue(parts.contains { $0.count == 64 }, "the dataset completed in the second round: \(parts)")

        // 3. A plain restart serves the sweep; the same submit is answered as accepted with nothing to upload.
        try cluster.startLab(sweeps: [])
        var answer: (status: Int32, stdout: String, stderr: String) = (1, "", "")
        try cluster.wait("the restarted lab to accept the submission", timeout: 30) {
            answer =
                (try? AblateBinary.run(["submit", sweep, "--connect", cluster.endpoint, "--timeout", "3", "--json"]))
                ?? answer
            return answer.status == 0
        }
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["uploaded_bytes"] as? Int, 0, answer.stdout)
        XCTAssertEqual(object["sweep"] as? String, "fragile")

        _ = FileManager.default.createFile(atPath: directory.file("go"), contents: nil)
        try cluster.startWorker("w1")
        try cluster.wait("every cell done", timeout: 90) {
            let cells = Self.cells(cluster.state, "fragile")
            return cells.count == 4 && cells.allSatisfy { $0.state == .done }
        }
        let ledger = try Ledger(readingDirectory: "\(cluster.state)/sweeps/fragile")
        defer { try? ledger.close() }
        for cell in try ledger.plannedCells() {
            XCTAssertEqual(try ledger.attempts(cell: cell.id).map(\.outcome), ["done"])
        }
    }

    // MARK: - Helpers

    private static func cells(_ state: String, _ sweep: String) -> [CellRecord] {
        guard let ledger = try? Ledger(readingDirectory: "\(state)/sweeps/\(sweep)") else { return [] }
        defer { try? ledger.close() }
        return (try? ledger.cells()) ?? []
    }

    private func running(_ state: String, _ sweep: String) -> Int {
        Self.cells(state, sweep).filter { $0.state == .running }.count
    }

    private static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A researcher's command sweep in `DIR/OWNER/`: a `megabytes` MB dataset file and a notes input that only
    /// that directory holds; the stub waits for `DIR/go`, then records the input's first line in `DIR/seen.log`.
    private func writeSweep(in directory: TemporaryDirectory, name: String, owner: String, megabytes: Int) -> String {
        let home = directory.file(owner)
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(megabytes * 1_000_000)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = FileManager.default.createFile(atPath: "\(home)/data.bin", contents: Data(bytes))
        _ = FileManager.default.createFile(atPath: "\(home)/notes.txt", contents: Data("\(owner) notes\n".utf8))
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                while [ ! -e "\(directory.file("go"))" ]; do sleep 0.05; done
                head -n 1 "$ABLATE_INPUT_NOTES" >> "\(directory.file("seen.log"))"
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5}" >> "$1/metrics.jsonl"

                """)
        let path = "\(home)/\(name).yaml"
        _ = FileManager.default.createFile(
            atPath: path,
            contents: Data(
                """
                name: \(name)
                dataset: data.bin
                baseline: base
                seeds: [1, 2]
                train:
                  epochs: 1
                  command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", \(owner)]
                  inputs: {notes: notes.txt}
                variants:
                  base: {loss: cb_focal}
                  other: {loss: poly, epsilon: 1.0}

                """.utf8))
        return path
    }
}
