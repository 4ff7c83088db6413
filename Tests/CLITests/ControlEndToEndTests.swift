// ControlEndToEndTests: `ablate cancel`, `resume`, `retry NAME --connect`, `extend` and `sweeps` on a running coordinator.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// A coordinator serving a sweep of command cells whose stub waits for a `go` file (and whose `flaky` variant fails
/// until a `fixed` file exists), with one worker. A cancel stops the running cell and keeps every cell from being
/// assigned; an extension by two seeds while cancelled adds cancelled cells; a SIGKILL and a restart keep both; a
/// resume runs them; `retry NAME --failed` once fixed finishes the flaky cells; every cell is done by exactly one
/// attempt in the ledger.
final class ControlEndToEndTests: XCTestCase {
    func testCancelExtendRestartResumeRetry() throws {
        try cancelExtendRestartResumeRetry(lab: false)
    }

    /// The same on a lab coordinator serving the sweep (`--lab --sweep`, restarted without `--sweep`).
    func testCancelExtendRestartResumeRetryOnALab() throws {
        try cancelExtendRestartResumeRetry(lab: true)
    }

    private func cancelExtendRestartResumeRetry(lab: Bool) throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        let go = directory.file("go")
        let fixed = directory.file("fixed")
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                while [ ! -e "\(go)" ]; do sleep 0.05; done
                if [ "$2" = flaky ] && [ ! -e "\(fixed)" ]; then echo "missing fix" >&2; exit 3; fi
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "control.yaml",
            text: """
                name: control
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2]
                max_attempts: 1
                train: {epochs: 1, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  flaky: {loss: poly, epsilon: 1.0}

                """)
        let cluster = LocalCluster(directory: directory, name: "control")
        defer { cluster.stopAll() }
        func start(first: Bool) throws {
            if lab {
                cluster.labSweep = "control"
                try cluster.startLab(sweeps: first ? [directory.file("control.yaml")] : [])
            } else {
                try cluster.startCoordinator(sweep: directory.file("control.yaml"), arguments: ["--keep-serving"])
            }
        }
        try start(first: true)
        try cluster.startWorker("w1")
        try cluster.wait("a running cell", timeout: 30) { cluster.cells().contains { $0.state == .running } }
        let running = try XCTUnwrap(cluster.cells().first { $0.state == .running })

        let unknown = try ablate(["cancel", "nope", "--connect", cluster.endpoint])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(
            unknown.stderr.contains("no sweep named 'nope' (this coordinator serves: control)"), unknown.stderr)

        let cancel = try ablate(["cancel", "control", "--connect", cluster.endpoint])
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertTrue(
            cancel.stdout.contains("cancelled sweep control: 1 running cell stopped, 4 cells held"), cancel.stdout)
        try cluster.wait("the cancelled cell back to pending", timeout: 10) {
            cluster.cells().allSatisfy { $0.state == .pending }
        }
        let ledger = try cluster.ledger()
        let ended = try ledger.attempts(cell: running.id)
        XCTAssertEqual(ended.map(\.outcome), ["cancelled"], "the attempt ends cancelled")
        XCTAssertEqual(try ledger.cell(running.id)?.failures, 0, "no attempt of the budget spent")
        try ledger.close()

        let extend = try ablate(["extend", "control", "--seeds", "3,4", "--connect", cluster.endpoint])
        XCTAssertEqual(extend.status, 0, extend.stderr)
        XCTAssertTrue(extend.stdout.contains("extended sweep control: 4 cells added"), extend.stdout)
        let again = try ablate([
            "extend", "control", "--seeds", "2,3", "--variant", "base", "--connect", cluster.endpoint,
        ])
        XCTAssertTrue(again.stdout.contains("0 cells added; already planned: base/seed-2, base/seed-3"), again.stdout)

        // A SIGKILL mid-sweep: the restarted coordinator keeps the cancellation and the extension.
        try cluster.killCoordinator()
        try start(first: false)
        let summary = try sweeps(cluster)
        XCTAssertEqual(summary["cells"] as? Int, 8)
        XCTAssertEqual(summary["cancelled"] as? Int, 8)
        XCTAssertEqual(summary["cancelled_variants"] as? [String], ["base", "flaky"])
        let status = try ablate(["status", "--connect", cluster.endpoint])
        XCTAssertTrue(status.stdout.contains("cancelled"), "status shows the cancelled cells:\n\(status.stdout)")
        let fromLedger = try ablate(["status"] + (lab ? ["control"] : []) + ["--state", cluster.state])
        XCTAssertTrue(fromLedger.stdout.contains("cancelled"), "and so does the ledger:\n\(fromLedger.stdout)")
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try attemptCount(cluster), 1, "no cell is assigned while cancelled:\n\(cluster.logTails())")

        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let resume = try ablate(["resume", "control", "--connect", cluster.endpoint])
        XCTAssertEqual(resume.status, 0, resume.stderr)
        XCTAssertTrue(resume.stdout.contains("resumed sweep control: 8 cells may run again"), resume.stdout)
        try cluster.wait("base done and flaky failed", timeout: 40) {
            let cells = cluster.cells()
            return cells.count == 8 && cells.allSatisfy { $0.state == ($0.variant == "base" ? .done : .failed) }
        }

        _ = FileManager.default.createFile(atPath: fixed, contents: nil)
        let retry = try ablate(["retry", "control", "--failed", "--connect", cluster.endpoint])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        XCTAssertTrue(retry.stdout.contains("retried 4 cells of sweep control"), retry.stdout)
        try cluster.wait("every cell done", timeout: 40) {
            let cells = cluster.cells()
            return cells.count == 8 && cells.allSatisfy { $0.state == .done }
        }
        let done = try sweeps(cluster)
        XCTAssertEqual(done["done"] as? Int, 8)
        XCTAssertEqual(done["cancelled_variants"] as? [String], [])

        // Exactly once: one `done` attempt per cell, the extension's seeds among them.
        let final = try cluster.ledger()
        defer { try? final.close() }
        let cells = try final.plannedCells()
        XCTAssertEqual(Set(cells.map(\.seed)), [1, 2, 3, 4])
        for cell in cells {
            let outcomes = try final.attempts(cell: cell.id).map(\.outcome)
            XCTAssertEqual(outcomes.filter { $0 == "done" }.count, 1, "\(cell.variant)/\(cell.seed): \(outcomes)")
        }
    }

    private func ablate(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try AblateBinary.run(arguments)
    }

    /// The sweep's entry of `ablate sweeps --json`.
    private func sweeps(_ cluster: LocalCluster) throws -> [String: Any] {
        var result: (status: Int32, stdout: String, stderr: String) = (1, "", "")
        // The restarted coordinator may take a moment to bind.
        try cluster.wait("an answer to ablate sweeps", timeout: 30) {
            result = (try? ablate(["sweeps", "--connect", cluster.endpoint, "--json", "--timeout", "2"])) ?? result
            return result.status == 0
        }
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let list = try XCTUnwrap(object["sweeps"] as? [[String: Any]])
        XCTAssertEqual(list.count, 1)
        return try XCTUnwrap(list.first)
    }

    /// Attempts started so far, every cell.
    private func attemptCount(_ cluster: LocalCluster) throws -> Int {
        let ledger = try cluster.ledger()
        defer { try? ledger.close() }
        return try ledger.cells().reduce(0) { $0 + (try ledger.attempts(cell: $1.id)).count }
    }
}
