// StatusAndSlotsTests: a worker with two slots runs two cells at once; `ablate status` by ledger, by socket and
// `--watch`; one coordinator per state directory.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class StatusAndSlotsTests: XCTestCase {
    /// One worker with `--slots 2` holds two running cells at the same time; while it does, `status --connect`
    /// (the running coordinator) and `status --state` (the ledger) both list them on that worker; a second
    /// coordinator on the same state directory is refused; the sweep completes with each cell run once, and the
    /// worker, started with `--exit-when-finished`, exits 0 when the coordinator says the sweep is finished.
    func testTwoSlotsStatusBothWaysAndASecondCoordinatorRefused() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: slots
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42}
                baseline: a
                seeds: [1, 2]
                train: {width: 16, epochs: 6}
                variants:
                  a: {loss: cb_focal}

                """)
        let cluster = LocalCluster(directory: directory, name: "slots")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: directory.file("sweep.yaml"))
        try cluster.startWorker("duo", arguments: ["--slots", "2", "--exit-when-finished"])
        try cluster.wait("two cells running on worker duo at once", timeout: 180) {
            cluster.cells().filter { $0.state == .running && $0.worker == "duo" }.count == 2
        }

        let live = try AblateBinary.run(["status", "--connect", cluster.endpoint])
        XCTAssertEqual(live.status, 0, live.stderr)
        XCTAssertTrue(live.stdout.hasPrefix("sweep slots\n"), live.stdout)
        let stored = try AblateBinary.run(["status", "--state", cluster.state])
        XCTAssertEqual(stored.status, 0, stored.stderr)
        for output in [live.stdout, stored.stdout] {
            let rows = output.split(separator: "\n").filter { $0.contains("duo") }
            XCTAssertGreaterThanOrEqual(rows.count, 2, "both running cells are listed on their worker:\n\(output)")
        }

        let second = try AblateBinary.run([
            "coordinator", "--sweep", directory.file("sweep.yaml"), "--state", cluster.state,
            "--bind", "ipc://\(directory.file("second.sock"))",
        ])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(
            second.stderr.contains(
                "in use by another coordinator (pid \(cluster.coordinator?.processIdentifier ?? 0))"), second.stderr)

        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 240), 0, cluster.logTails())
        let worker = try XCTUnwrap(cluster.workers["duo"])
        try cluster.wait("worker duo to exit once told the sweep is finished", timeout: 20) { !worker.isRunning }
        XCTAssertEqual(worker.terminationStatus, 0, cluster.logTails())
        let workerLog = (try? String(contentsOfFile: directory.file("worker-duo.log"), encoding: .utf8)) ?? ""
        XCTAssertTrue(workerLog.contains("the sweep is finished; exiting"), workerLog)
        let ledger = try cluster.ledger()
        for cell in cluster.cells() {
            XCTAssertEqual(cell.state, .done)
            XCTAssertEqual(try ledger.attempts(cell: cell.id).count, 1)
        }
        try checkWatchRefreshesUntilInterrupted(state: cluster.state, directory: directory)
        try checkStoredProgressAsJSON(state: cluster.state)
    }

    /// `status --state --json`: every cell's pace, rate, loss and metrics from the ledger's epoch records, typed.
    private func checkStoredProgressAsJSON(state: String) throws {
        let result = try AblateBinary.run(["status", "--state", state, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(document["sweep"] as? String, "slots")
        let summary = try XCTUnwrap(document["summary"] as? [String: Any])
        let cells = try XCTUnwrap(document["cells"] as? [[String: Any]])
        XCTAssertEqual(summary["cells"] as? Int, cells.count)
        XCTAssertEqual(summary["done"] as? Int, cells.count)
        XCTAssertEqual(summary["eta_seconds"] as? Double, 0)
        var total = 0.0
        for cell in cells {
            for key in ["elapsed_seconds", "epoch_seconds", "samples_per_second", "train_loss"] {
                XCTAssertGreaterThan(cell[key] as? Double ?? 0, 0, "\(key) of \(cell)")
            }
            XCTAssertNotNil(cell["last_val_macro_f1"] as? Double)
            XCTAssertTrue(cell.keys.contains("worker") && cell["worker"] is NSNull, "a done cell has no worker: null")
            total += cell["elapsed_seconds"] as? Double ?? 0
        }
        XCTAssertEqual(summary["worker_seconds"] as? Double ?? 0, total, accuracy: 1e-6)
    }

    /// `status --state` lists each failed cell with the reason the ledger holds.
    func testStatusGivesTheReasonOfAFailedCell() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        _ = try ledger.beginRun(sweepName: "reasons", sweepText: "name: reasons")
        var cell = CellRecord(
            id: String(repeating: "a", count: 64), variant: "poly", seed: 7, stage: "2", configJSON: "{}", position: 0,
            epochs: 5)
        _ = try ledger.addCells([cell])
        try ledger.setPlan([cell.id])
        cell.state = .failed
        cell.reason = "diverged at epoch 1 (non-finite loss)"
        try ledger.update(cell)
        try ledger.close()
        let status = try AblateBinary.run(["status", "--state", directory.path])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(
            status.stdout.contains("failed: poly seed 7: diverged at epoch 1 (non-finite loss)"), status.stdout)
    }

    /// `status --watch` prints the table again every second until SIGINT, then exits 0.
    private func checkWatchRefreshesUntilInterrupted(state: String, directory: TemporaryDirectory) throws {
        let output = directory.file("watch.out")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: output))
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: AblateBinary.path)
        watch.arguments = ["status", "--state", state, "--watch"]
        watch.standardOutput = handle
        try watch.run()
        Thread.sleep(forTimeInterval: 2.5)
        kill(watch.processIdentifier, SIGINT)
        watch.waitUntilExit()
        try handle.close()
        XCTAssertEqual(watch.terminationStatus, 0)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        XCTAssertGreaterThanOrEqual(text.components(separatedBy: "sweep slots\n").count - 1, 2, text)
    }
}
