// AdaptiveSeedsEndToEndTests: an adaptive sweep adds seeds while undecided, survives a coordinator restart, and finishes.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// A baseline and a twin that trains exactly like it (its early-stopping patience never acts in 2 epochs), with
/// `threshold_pp: 0`: every per-seed difference is 0, which is neither better nor worse (Δ must pass 0) nor
/// equivalent (the interval must lie strictly inside (−0, +0)), so the twin stays `undecided` and the coordinator
/// adds seeds 3 and 4 — one at a time — up to `max: 4`.
final class AdaptiveSeedsEndToEndTests: XCTestCase {
    func writeSweep(_ directory: TemporaryDirectory) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "adaptive.yaml",
            text: """
                name: adaptive-e2e
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: base
                seeds: {initial: [1, 2], max: 4}
                train: {width: 16, epochs: 2, max_train_rows: 600, max_val_rows: 200}
                variants:
                  base: {loss: cb_focal, gamma: 2.0, early_stopping_patience: 50}
                  twin: {loss: cb_focal, gamma: 2.0, early_stopping_patience: 60}
                significance: {threshold_pp: 0, resamples: 200}

                """)
        return directory.file("adaptive.yaml")
    }

    func testUndecidedVariantCollectsSeedsToTheMaximumAcrossACoordinatorRestart() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(directory)
        let cluster = LocalCluster(directory: directory, name: "adaptive")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep, restartGraceMs: 10_000)
        try cluster.startWorker("a")
        try cluster.startWorker("b")
        // The first later seed is added once the report has judged the initial two: then the coordinator is killed.
        try cluster.wait("a cell of seed 3 in the ledger", timeout: 240) {
            cluster.cells().contains { $0.seed == 3 && $0.variant == "twin" }
        }
        let beforeKill = cluster.cells()
        XCTAssertFalse(beforeKill.contains { $0.seed == 4 }, "one seed at a time: seed 4 only after seed 3 is judged")
        try cluster.killCoordinator()
        Thread.sleep(forTimeInterval: 0.5)
        try cluster.startCoordinator(sweep: sweep, restartGraceMs: 10_000)
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 300), 0, cluster.logTails())

        let ledger = try cluster.ledger()
        XCTAssertEqual(try ledger.incarnation(), 2)
        let planned = try ledger.plannedCells().filter { $0.stage != "1" }
        XCTAssertEqual(
            planned.map { "\($0.variant)/\($0.seed)" }.sorted(),
            ["base/1", "base/2", "base/3", "base/4", "twin/1", "twin/2", "twin/3", "twin/4"],
            "seeds 3 and 4 added for both, each once\n\(cluster.logTails())")
        XCTAssertEqual(try ledger.cells().count, planned.count + 1, "no other cell (plus the stage-1 job)")
        for cell in planned {
            XCTAssertEqual(cell.state, .done, "\(cell.variant)/\(cell.seed)")
        }
        // Extra cells are ordinary content-addressed cells: the ids a list sweep with those seeds would give.
        let seedThree = try XCTUnwrap(planned.first { $0.variant == "twin" && $0.seed == 3 })
        XCTAssertEqual(seedThree.id, beforeKill.first { $0.variant == "twin" && $0.seed == 3 }?.id)

        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(cluster.state)/report.json"))) as? [String: Any])
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        let twin = try XCTUnwrap(variants.first { $0["name"] as? String == "twin" })
        XCTAssertEqual(twin["verdict"] as? String, "undecided")
        XCTAssertEqual((twin["paired_seeds"] as? [String])?.sorted(), ["1", "2", "3", "4"])
        let adaptive = try XCTUnwrap(report["adaptive"] as? [String: Any])
        XCTAssertEqual(adaptive["max_seeds"] as? Int, 4)
        XCTAssertEqual(twin["level"] as? Double ?? 0, 0.025, accuracy: 1e-12, "the final look is judged at α/2")

        let log = try String(contentsOfFile: directory.file("coordinator.log"), encoding: .utf8)
        XCTAssertEqual(
            log.components(
                separatedBy: "adaptive seeds: twin: undecided at 2 seeds, adding seed 3 of at most 4 (seed 3)"
            ).count, 2,
            "seed 3 asked for once, before the restart\n\(log)")
        XCTAssertTrue(
            log.contains("sweep adaptive-e2e: 2 cells of later seeds planned by earlier runs (adaptive seeds)"),
            "the restarted coordinator keeps seed 3's cells in its plan\n\(log)")
        XCTAssertTrue(
            log.contains("adaptive seeds: twin: undecided at 3 seeds, adding seed 4 of at most 4 (seed 4)"), log)
        XCTAssertTrue(log.contains("adaptive seeds: twin: undecided at the maximum of 4 seeds"), log)

        let status = try AblateBinary.run(["status", "--state", cluster.state])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("adaptive seeds (2 initial, at most 4 per variant):"), status.stdout)
        XCTAssertTrue(status.stdout.contains("  twin: undecided at the maximum of 4 seeds"), status.stdout)
        XCTAssertTrue(status.stdout.contains("9/9 done"), status.stdout)
    }
}
