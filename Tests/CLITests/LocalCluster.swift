// LocalCluster: a coordinator and workers as real `ablate` processes on an ipc:// endpoint, for end-to-end tests.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Starts, kills and watches `ablate coordinator` / `ablate worker` processes sharing one temporary directory;
/// reads progress from the coordinator's ledger (read-only, as `ablate status` does).
final class LocalCluster {
    let directory: TemporaryDirectory
    let state: String
    let endpoint: String
    private(set) var coordinator: Process?
    private(set) var workers: [String: Process] = [:]
    /// Heartbeat interval for the processes: short, so liveness windows are 2 s, yet long enough that a test machine
    /// stalling for a second does not expire a live worker.
    let heartbeatMs = 400

    /// `state` puts the state directory elsewhere (e.g. on a small filesystem); by default it is in `directory`.
    init(directory: TemporaryDirectory, name: String, state: String? = nil) {
        self.directory = directory
        self.state = state ?? directory.file("\(name)-state")
        endpoint = "ipc://\(directory.file("\(name).sock"))"
    }

    /// Writes a small synthetic dataset (once per directory) and returns its path.
    static func dataset(in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("data.h5")
        if !FileManager.default.fileExists(atPath: path) {
            let result = try AblateBinary.run([
                "data", "synth", "--out", path, "--train", "1200", "--val", "300", "--seed", "5",
            ])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        return path
    }

    /// A one-cell sweep (plus its stage-1 job) on 600 training rows, for tests about the processes rather than training.
    static func tinySweep(in directory: TemporaryDirectory, name: String) throws -> String {
        let dataset = try dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: \(name)
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: a
                seeds: [1]
                train: {width: 16, epochs: 2, max_train_rows: 600, max_val_rows: 200}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}

                """)
        return directory.file("sweep.yaml")
    }

    /// The fault tests' sweep: a stage-1 job, then 2 variants × 2 seeds of 3 epochs on the whole synthetic dataset,
    /// so that the pauses of `FaultCase.occurrence` fall inside the first stage-2 cell.
    static func faultSweep(in directory: TemporaryDirectory, name: String) throws -> String {
        let dataset = try dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: \(name)
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42}
                baseline: cb_focal
                seeds: [42, 43]
                train: {width: 16, epochs: 3}
                variants:
                  cb_focal: {loss: cb_focal, gamma: 2.0}
                  poly: {loss: poly, epsilon: 1.0}

                """)
        return directory.file("sweep.yaml")
    }

    private func spawn(_ arguments: [String], log: String, environment: [String: String] = [:]) throws -> Process {
        try launchLogged([AblateBinary.path] + arguments, environment: environment, log: directory.file(log))
    }

    func startCoordinator(
        sweep: String, restartGraceMs: Int = 3000, arguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        coordinator = try spawn(
            [
                "coordinator", "--sweep", sweep, "--state", state, "--bind", endpoint,
                "--heartbeat-ms", "\(heartbeatMs)", "--restart-grace-ms", "\(restartGraceMs)",
            ] + arguments,
            log: "coordinator.log", environment: environment)
    }

    /// A lab coordinator (`--lab`) on the cluster's state directory, serving it plus each of `sweeps`.
    func startLab(sweeps: [String], arguments: [String] = []) throws {
        coordinator = try spawn(
            ["coordinator", "--lab"] + sweeps.flatMap { ["--sweep", $0] } + [
                "--state", state, "--bind", endpoint, "--heartbeat-ms", "\(heartbeatMs)", "--restart-grace-ms", "3000",
            ] + arguments,
            log: "coordinator.log")
    }

    /// `cache` names the prefix-cache directory (shared by every cluster of the directory unless given).
    func startWorker(
        _ name: String, environment: [String: String] = [:], arguments: [String] = [], cache: String = "prefix-cache"
    ) throws {
        workers[name] = try spawn(
            [
                "worker", "--connect", endpoint, "--work-dir", directory.file("work-\(name)"), "--name", name,
                "--cache-dir", directory.file(cache),
            ] + arguments, log: "worker-\(name).log", environment: environment)
    }

    func signal(worker name: String, _ number: Int32) throws {
        let process = try XCTUnwrap(workers[name])
        kill(process.processIdentifier, number)
    }

    func killCoordinator() throws {
        let process = try XCTUnwrap(coordinator)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The sweep whose ledger `cells()` and `ledger()` read when the coordinator is a lab (`sweeps/<name>/`);
    /// nil: the state directory's own.
    var labSweep: String?

    /// The directory of the ledger `cells()` and `ledger()` read.
    var ledgerDirectory: String { labSweep.map { "\(state)/sweeps/\($0)" } ?? state }

    /// The ledger's cells (empty until the coordinator has created it).
    func cells() -> [CellRecord] {
        guard let ledger = try? Ledger(readingDirectory: ledgerDirectory) else { return [] }
        return (try? ledger.cells()) ?? []
    }

    func ledger() throws -> Ledger { try Ledger(readingDirectory: ledgerDirectory) }

    /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass (then fails with the logs' tails).
    func wait(_ what: String, timeout: Double, _ condition: () -> Bool) throws {
        try pollUntil(what, timeout: timeout, logs: logTails, condition)
    }

    /// Waits for the coordinator to exit (it does when every cell is done or failed) and returns its status.
    func waitForCoordinator(timeout: Double) throws -> Int32 {
        let process = try XCTUnwrap(coordinator)
        try wait("the coordinator to finish the sweep", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    func logTails() -> String { CLITests.logTails(in: directory) }

    func stopAll() {
        for process in workers.values where process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            process.terminate()
        }
        if let coordinator, coordinator.isRunning { coordinator.terminate() }
        for process in workers.values { process.waitUntilExit() }
        coordinator?.waitUntilExit()
    }

    /// A cell's central `metrics.jsonl` with the wall-clock field removed from each line (the deterministic part).
    func deterministicMetrics(variant: String, seed: UInt64) throws -> [String] {
        let text = try String(contentsOfFile: "\(state)/runs/\(variant)/seed-\(seed)/metrics.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            object["seconds"] = nil
            return String(
                decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass; then fails the test with `logs()` (the
/// processes' log tails) and throws to end it.
func pollUntil(_ what: String, timeout: Double, logs: () -> String, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("timed out after \(Int(timeout)) s waiting for \(what)\n\(logs())")
    throw XCTSkip("timed out")
}
