// SweepEndToEndTests: real coordinator and worker processes — completion, killed workers, a killed coordinator,
// a partitioned worker, a corrupted chunk.
import AblateSupport
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// End-to-end runs of a 2 variants × 2 seeds sweep (plus its Stage-1 job) over ipc:// with 200 ms heartbeats.
final class SweepEndToEndTests: XCTestCase {
    static let seeds: [UInt64] = [42, 43]
    static let variants = ["cb_focal", "poly"]

    func writeSweep(_ directory: TemporaryDirectory) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: e2e
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42}
                baseline: cb_focal
                seeds: [42, 43]
                train: {width: 16, epochs: 4}
                variants:
                  cb_focal: {loss: cb_focal, gamma: 2.0}
                  poly: {loss: poly, epsilon: 1.0}

                """)
        return directory.file("sweep.yaml")
    }

    /// A clean sweep completes with every file central (one worker corrupts its first chunk: detected, resent);
    /// then the same sweep with a worker SIGKILLed mid-cell completes with every cell's metrics identical.
    func testSweepCompletesAndAKilledWorkersCellEndsIdenticalToACleanRun() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(directory)

        let clean = LocalCluster(directory: directory, name: "clean")
        defer { clean.stopAll() }
        try clean.startCoordinator(sweep: sweep)
        try clean.startWorker("w0", arguments: ["--fault-corrupt-first-chunk"])
        try clean.startWorker("w1")
        XCTAssertEqual(try clean.waitForCoordinator(timeout: 240), 0, clean.logTails())
        // The coordinator ends with the verdict table and has written the report files beside the ledger.
        let coordinatorLog = (try? String(contentsOfFile: directory.file("coordinator.log"), encoding: .utf8)) ?? ""
        XCTAssertTrue(coordinatorLog.contains("| Variant | Seeds |"), clean.logTails())
        for name in ["report.md", "report.csv", "report.json", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(clean.state)/\(name)"), name)
        }
        let cells = clean.cells()
        XCTAssertEqual(cells.count, 5)
        XCTAssertEqual(cells.filter { $0.state == .done }.count, 5, clean.logTails())
        let ledger = try clean.ledger()
        XCTAssertGreaterThanOrEqual(try ledger.counters()["hash_mismatch"] ?? 0, 1, "the corrupted chunk was detected")
        for cell in cells {
            XCTAssertEqual(try ledger.attempts(cell: cell.id).count, 1, "cell \(cell.variant)/\(cell.seed) ran once")
            let run = "\(clean.state)/runs/\(cell.variant)/seed-\(cell.seed)"
            for file in ["metrics.jsonl", "summary.json", "best.h5", "last.h5", "predictions.h5"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(run)/\(file)"), "\(run)/\(file)")
            }
            XCTAssertEqual(
                try clean.deterministicMetrics(variant: cell.variant, seed: cell.seed).count, cell.epochsDone)
        }
        // Superseded checkpoints (every epoch's last.h5 but the final one, older best.h5) were removed.
        var named = Set<String>()
        for cell in cells { named.formUnion(try ledger.cellFiles(cell: cell.id, attempt: cell.attempt).map(\.sha256)) }
        let stored = Set(try FileManager.default.contentsOfDirectory(atPath: "\(clean.state)/artifacts"))
        XCTAssertEqual(stored, named, "the artifact store holds exactly the final files of each cell")
        try checkReportCommand(state: clean.state, directory: directory)
        // The host's workers share one cache: the dataset sits there once, complete, and no worker keeps a copy.
        let shared = try FileManager.default.contentsOfDirectory(atPath: directory.file("prefix-cache/artifacts"))
        let datasetSHA = try SHA256Hex.ofFile(try LocalCluster.dataset(in: directory))
        XCTAssertTrue(shared.contains(datasetSHA), "\(shared)")
        XCTAssertFalse(shared.contains { $0.contains(".part") }, "no part file outlives its download: \(shared)")
        for worker in ["w0", "w1"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("work-\(worker)/artifacts")))
        }

        let killed = LocalCluster(directory: directory, name: "killed")
        defer { killed.stopAll() }
        try killed.startCoordinator(sweep: sweep)
        try killed.startWorker("a")
        try killed.startWorker("b")
        var victim: CellRecord?
        try killed.wait("a stage-2 cell on worker a with a checkpoint", timeout: 180) {
            victim = killed.cells().first {
                $0.stage == "2" && $0.worker == "a" && $0.state == .running && $0.resumeEpoch >= 1
                    && $0.epochsDone < $0.epochs
            }
            return victim != nil
        }
        try killed.signal(worker: "a", SIGKILL)
        XCTAssertEqual(try killed.waitForCoordinator(timeout: 240), 0, killed.logTails())
        let target = try XCTUnwrap(victim)
        let after = try XCTUnwrap(killed.cells().first { $0.id == target.id })
        XCTAssertEqual(after.state, .done)
        XCTAssertGreaterThanOrEqual(after.attempt, 2, "the killed cell was requeued")
        for variant in Self.variants {
            for seed in Self.seeds {
                XCTAssertEqual(
                    try killed.deterministicMetrics(variant: variant, seed: seed),
                    try clean.deterministicMetrics(variant: variant, seed: seed),
                    "\(variant)/seed-\(seed) differs from the clean run")
            }
        }
    }

    /// The coordinator is SIGKILLed mid-sweep and restarted on the same state: every cell completes and none runs
    /// twice (running cells are kept by their workers, done cells stay done).
    func testCoordinatorKilledAndRestartedRunsNoCellTwice() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(directory)
        let cluster = LocalCluster(directory: directory, name: "restart")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep, restartGraceMs: 10_000)
        try cluster.startWorker("a")
        try cluster.startWorker("b")
        try cluster.wait("a done cell and a running stage-2 cell", timeout: 180) {
            let cells = cluster.cells()
            return cells.contains { $0.state == .done }
                && cells.contains { $0.stage == "2" && $0.state == .running && $0.epochsDone >= 1 }
        }
        try cluster.killCoordinator()
        Thread.sleep(forTimeInterval: 0.5)
        try cluster.startCoordinator(sweep: sweep, restartGraceMs: 10_000)
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 240), 0, cluster.logTails())
        let ledger = try cluster.ledger()
        XCTAssertEqual(try ledger.incarnation(), 2)
        for cell in cluster.cells() {
            XCTAssertEqual(cell.state, .done)
            XCTAssertEqual(
                try ledger.attempts(cell: cell.id).count, 1,
                "cell \(cell.variant)/\(cell.seed) ran more than once\n\(cluster.logTails())")
        }
    }

    /// A worker frozen (SIGSTOP) past its liveness loses its cell to another worker; when it thaws, its late
    /// metrics are fenced and never stored, and the cell's result is the new attempt's.
    func testPartitionedWorkersLateResultsAreFenced() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(directory)
        let cluster = LocalCluster(directory: directory, name: "partition")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("a")
        try cluster.startWorker("b")
        var frozen: CellRecord?
        try cluster.wait("a stage-2 cell on worker a", timeout: 180) {
            frozen = cluster.cells().first {
                $0.stage == "2" && $0.worker == "a" && $0.state == .running && $0.epochsDone >= 1
                    && $0.epochsDone < $0.epochs - 1
            }
            return frozen != nil
        }
        try cluster.signal(worker: "a", SIGSTOP)
        let target = try XCTUnwrap(frozen)
        try cluster.wait("the frozen cell to be reassigned", timeout: 60) {
            (cluster.cells().first { $0.id == target.id }?.attempt ?? 0) > target.attempt
        }
        let ledger = try cluster.ledger()
        let storedBefore = try ledger.metrics(cell: target.id, attempt: target.attempt).count
        try cluster.signal(worker: "a", SIGCONT)
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 240), 0, cluster.logTails())
        XCTAssertEqual(
            try ledger.metrics(cell: target.id, attempt: target.attempt).count, storedBefore,
            "late metrics of the old attempt were stored")
        let after = try XCTUnwrap(cluster.cells().first { $0.id == target.id })
        XCTAssertEqual(after.state, .done)
        XCTAssertGreaterThan(after.attempt, target.attempt)
        // When the thawed worker spoke again before the sweep ended, what it said about the old attempt was fenced.
        let counters = try ledger.counters()
        let fenced = counters.filter {
            $0.key.hasPrefix("stale_") || $0.key.hasPrefix("fenced_") || $0.key == "unknown_session"
        }.values.reduce(0, +)
        let workerLog = (try? String(contentsOfFile: directory.file("worker-a.log"), encoding: .utf8)) ?? ""
        let sessions = workerLog.components(separatedBy: "connected: session").count - 1
        if sessions >= 2 { XCTAssertGreaterThan(fenced, 0, "the thawed worker's messages were fenced: \(counters)") }
    }

    /// `ablate report` on the finished sweep: JSON with both variants judged against the baseline, Markdown written
    /// atomically to `--out`; a missing state directory is a one-line error.
    private func checkReportCommand(state: String, directory: TemporaryDirectory) throws {
        let json = try AblateBinary.run(["report", "--state", state, "--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["baseline"] as? String, "cb_focal")
        let variants = try XCTUnwrap(object["variants"] as? [[String: Any]])
        XCTAssertEqual(Set(variants.compactMap { $0["name"] as? String }), Set(Self.variants))
        let poly = try XCTUnwrap(variants.first { $0["name"] as? String == "poly" })
        XCTAssertNotNil(poly["verdict"] as? String, "\(poly)")
        XCTAssertNotNil(poly["p_holm"] as? Double, "\(poly)")
        XCTAssertEqual((object["cells"] as? [Any])?.count, 4)

        let markdown = directory.file("report.md")
        let written = try AblateBinary.run(["report", "--state", state, "--out", markdown])
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertTrue(try String(contentsOfFile: markdown, encoding: .utf8).contains("## Significance"))

        let missing = try AblateBinary.run(["report", "--state", directory.file("no-such-state")])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }
}
