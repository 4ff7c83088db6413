// LabEndToEndTests: one lab coordinator serving two sweeps on shared workers — migration, restart, priority, exit.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Real `ablate coordinator` and `ablate worker` processes on loopback, with command cells whose stub waits for a
/// `go-VARIANT` file, so the test decides when cells end.
final class LabEndToEndTests: XCTestCase {
    /// A single-sweep state directory half done (base cells done, an `other` cell running) becomes a lab with a
    /// second sweep: the running cell's worker resumes it there, the free slot goes to the new sweep (fair share),
    /// a SIGKILL and a restart without `--sweep` serve both from `sweeps/`, every cell ends done by exactly one
    /// attempt (no done cell redone), and workers with `--exit-when-idle` leave after the last cell.
    func testMigrateShareRestartAndExitWhenIdle() throws {
        let directory = TemporaryDirectory()
        let alpha = writeSweep(in: directory, name: "alpha")
        let beta = writeSweep(in: directory, name: "beta")
        let cluster = LocalCluster(directory: directory, name: "lab")
        defer { cluster.stopAll() }

        // Today's layout: one sweep, one worker; the base cells finish, an `other` cell stays running.
        try cluster.startCoordinator(sweep: alpha, arguments: ["--keep-serving"])
        try cluster.startWorker("w1", arguments: ["--exit-when-idle", "4"])
        go(directory, "base")
        try cluster.wait("alpha's base cells done and another running", timeout: 60) {
            let cells = cluster.cells()
            return cells.filter { $0.variant == "base" && $0.state == .done }.count == 2
                && cells.contains { $0.variant == "other" && $0.state == .running }
        }
        try cluster.killCoordinator()

        // The lab: alpha moves into sweeps/alpha; beta joins.
        try startLab(cluster, sweeps: [alpha, beta])
        try cluster.wait("the move into sweeps/alpha", timeout: 30) {
            Self.text(directory.file("coordinator.log")).contains("moved sweep alpha into")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(cluster.state)/lab.json"))
        try cluster.startWorker("w2", arguments: ["--exit-when-idle", "4"])
        try cluster.wait("a running cell of each sweep on the two workers", timeout: 60) {
            running(cluster, "alpha") == 1 && running(cluster, "beta") == 1
        }
        let sweeps = try listing(cluster)
        XCTAssertEqual(sweeps.map { $0["name"] as? String }, ["alpha", "beta"])

        // A restart in the middle, without --sweep: both sweeps come back from the lab's directory.
        try cluster.killCoordinator()
        try startLab(cluster, sweeps: [])
        go(directory, "other")
        try cluster.wait("every cell of both sweeps done", timeout: 120) {
            ["alpha", "beta"].allSatisfy { name in
                let cells = self.cells(cluster, name)
                return cells.count == 4 && cells.allSatisfy { $0.state == .done }
            }
        }
        for worker in ["w1", "w2"] {
            try cluster.wait("worker \(worker) to leave when idle", timeout: 30) {
                cluster.workers[worker]?.isRunning == false
            }
            XCTAssertEqual(cluster.workers[worker]?.terminationStatus, 0, cluster.logTails())
        }

        // Exactly once, and alpha's base cells (done before the move) were not run again.
        for name in ["alpha", "beta"] {
            let ledger = try Ledger(readingDirectory: "\(cluster.state)/sweeps/\(name)")
            defer { try? ledger.close() }
            for cell in try ledger.plannedCells() {
                let outcomes = try ledger.attempts(cell: cell.id).map(\.outcome)
                XCTAssertEqual(
                    outcomes.filter { $0 == "done" }.count, 1, "\(name) \(cell.variant)/\(cell.seed): \(outcomes)")
                if name == "alpha" && cell.variant == "base" {
                    XCTAssertEqual(outcomes, ["done"], "alpha/base/\(cell.seed) was done before the move")
                }
            }
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: "\(cluster.state)/sweeps/\(name)/runs/base/seed-1/summary.json"),
                "\(name)'s results are in its own directory")
        }

        // Status by name, and without one (a lab of two names them).
        let status = try AblateBinary.run(["status", "beta", "--connect", cluster.endpoint])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.hasPrefix("sweep beta"), status.stdout)
        let unnamed = try AblateBinary.run(["status", "--connect", cluster.endpoint])
        XCTAssertTrue(unnamed.stdout.contains("this coordinator serves 2 sweeps: alpha, beta"), unnamed.stdout)
        let unknown = try AblateBinary.run(["status", "gamma", "--connect", cluster.endpoint])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(
            unknown.stderr.contains("no sweep named 'gamma' (this coordinator serves: alpha, beta)"), unknown.stderr)
        let offline = try AblateBinary.run(["status", "alpha", "--state", cluster.state])
        XCTAssertTrue(offline.stdout.hasPrefix("sweep alpha"), offline.stdout)

        // The report the lab keeps for beta, fetched over the endpoint, is the one in beta's directory.
        let fetched = directory.file("beta-report.json")
        var report: (status: Int32, stdout: String, stderr: String) = (1, "", "")
        try cluster.wait("beta's report over --connect", timeout: 60) {
            report =
                (try? AblateBinary.run([
                    "report", "beta", "--connect", cluster.endpoint, "--format", "json", "--out", fetched,
                ])) ?? report
            return report.status == 0
        }
        let object = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fetched))) as? [String: Any])
        XCTAssertNotNil(object["variants"], "a report.json: \(object.keys.sorted())")
        // `ablate sweeps` shows the latest report's verdicts of each sweep.
        var verdicts: [String: String]?
        try cluster.wait("beta's verdicts in ablate sweeps", timeout: 30) {
            let result = try? AblateBinary.run(["sweeps", "--connect", cluster.endpoint, "--json"])
            let object =
                result.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) } as? [String: Any]
            let beta = (object?["sweeps"] as? [[String: Any]])?.first { $0["name"] as? String == "beta" }
            verdicts = beta?["verdicts"] as? [String: String]
            return verdicts != nil
        }
        XCTAssertNotNil(verdicts?["other"], "\(verdicts ?? [:])")
        let table = try AblateBinary.run(["sweeps", "--connect", cluster.endpoint])
        XCTAssertTrue(table.stdout.contains("other="), table.stdout)
        let local = try AblateBinary.run(["report", "beta", "--state", cluster.state, "--format", "md"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let missing = try AblateBinary.run(["report", "gamma", "--connect", cluster.endpoint])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no sweep named 'gamma'"), missing.stderr)
    }

    /// With one slot, a sweep of higher priority runs all its cells before a sweep of lower priority starts one,
    /// whatever their submission order.
    func testPriorityGoesFirst() throws {
        let directory = TemporaryDirectory()
        let low = writeSweep(in: directory, name: "low")
        let high = writeSweep(in: directory, name: "high", priority: 5)
        go(directory, "base")
        go(directory, "other")
        let cluster = LocalCluster(directory: directory, name: "prio")
        defer { cluster.stopAll() }
        try startLab(cluster, sweeps: [low, high])
        try cluster.startWorker("w1", arguments: ["--exit-when-idle", "3"])
        try cluster.wait("both sweeps done", timeout: 120) {
            ["low", "high"].allSatisfy { name in
                let cells = self.cells(cluster, name)
                return cells.count == 4 && cells.allSatisfy { $0.state == .done }
            }
        }
        let starts = try ["low", "high"].map { name -> [Double] in
            let ledger = try Ledger(readingDirectory: "\(cluster.state)/sweeps/\(name)")
            defer { try? ledger.close() }
            return try ledger.plannedCells().flatMap { try ledger.attempts(cell: $0.id).map(\.startedAt) }
        }
        XCTAssertLessThan(
            try XCTUnwrap(starts[1].max()), try XCTUnwrap(starts[0].min()), "high's cells all start first")
    }

    /// Two sweeps that plan the same cells (same command, config and seeds; only their names differ): each cell
    /// runs once, in the sweep served first, and the other adopts it — done, with its own results directory.
    func testSharedCellsRunOnce() throws {
        let directory = TemporaryDirectory()
        let first = writeSweep(in: directory, name: "first", sharing: true)
        let second = writeSweep(in: directory, name: "second", sharing: true)
        go(directory, "base")
        go(directory, "other")
        let cluster = LocalCluster(directory: directory, name: "shared")
        defer { cluster.stopAll() }
        try startLab(cluster, sweeps: [first, second])
        try cluster.startWorker("w1", arguments: ["--slots", "2"])
        try cluster.wait("both sweeps done", timeout: 120) {
            ["first", "second"].allSatisfy { name in
                let cells = self.cells(cluster, name)
                return cells.count == 4 && cells.allSatisfy { $0.state == .done }
            }
        }
        let runs = Self.text(directory.file("runs.log")).split(separator: "\n")
        XCTAssertEqual(runs.count, 4, "each of the 4 cells trained once:\n\(runs.joined(separator: "\n"))")
        let ledger = try Ledger(readingDirectory: "\(cluster.state)/sweeps/second")
        defer { try? ledger.close() }
        for cell in try ledger.plannedCells() {
            let attempts = try ledger.attempts(cell: cell.id)
            XCTAssertEqual(attempts.map(\.outcome), ["done"])
            XCTAssertEqual(attempts.first?.session, "shared:first")
        }
        // Its results are written just after the ledger says done.
        let metrics = "\(cluster.state)/sweeps/second/runs/other/seed-2/metrics.jsonl"
        try cluster.wait("second's own results in \(metrics)", timeout: 10) {
            Self.text(metrics).contains("\"val_macro_f1\"")
        }
    }

    // MARK: - Helpers

    private func startLab(_ cluster: LocalCluster, sweeps: [String]) throws {
        try cluster.startLab(sweeps: sweeps)
    }

    private func go(_ directory: TemporaryDirectory, _ variant: String) {
        _ = FileManager.default.createFile(atPath: directory.file("go-\(variant)"), contents: nil)
    }

    private func cells(_ cluster: LocalCluster, _ sweep: String) -> [CellRecord] {
        guard let ledger = try? Ledger(readingDirectory: "\(cluster.state)/sweeps/\(sweep)") else { return [] }
        defer { try? ledger.close() }
        return (try? ledger.cells()) ?? []
    }

    private func running(_ cluster: LocalCluster, _ sweep: String) -> Int {
        cells(cluster, sweep).filter { $0.state == .running }.count
    }

    /// `ablate sweeps --json`'s entries (waiting for a restarted coordinator to answer).
    private func listing(_ cluster: LocalCluster) throws -> [[String: Any]] {
        var result: (status: Int32, stdout: String, stderr: String) = (1, "", "")
        try cluster.wait("an answer to ablate sweeps", timeout: 30) {
            result =
                (try? AblateBinary.run(["sweeps", "--connect", cluster.endpoint, "--json", "--timeout", "2"])) ?? result
            return result.status == 0
        }
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(object["sweeps"] as? [[String: Any]])
    }

    private static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A command sweep of two variants × two seeds whose stub waits for `go-VARIANT` in the directory; `name` enters
    /// the command unless `sharing`, so two sweeps share their cells only then.
    private func writeSweep(
        in directory: TemporaryDirectory, name: String, priority: Int? = nil, sharing: Bool = false
    ) -> String {
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                while [ ! -e "\(directory.file("go-"))$2" ]; do sleep 0.05; done
                echo "$2 $3" >> "\(directory.file("runs.log"))"
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "\(name).yaml",
            text: """
                name: \(name)
                baseline: base
                seeds: [1, 2]
                max_attempts: 1
                \(priority.map { "priority: \($0)" } ?? "")
                train: {epochs: 1, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"\(sharing ? "" : ", \(name)")]}
                variants:
                  base: {loss: cb_focal}
                  other: {loss: poly, epsilon: 1.0}

                """)
        return directory.file("\(name).yaml")
    }
}
