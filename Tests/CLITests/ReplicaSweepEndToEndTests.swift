// ReplicaSweepEndToEndTests: an A/A sweep (`replica_of`) through `ablate local` — own seeds, paired by sweep seed, judged.
import Foundation
import TestSupport
import XCTest

/// The way users measure their noise floor, run as they would: `ablate local` on a sweep with a replica of the
/// baseline. The replica's cells train with derived seeds, pair with the baseline's by sweep seed, and its verdict
/// (same settings, so no true difference) is not `better` or `worse` at a 3 pp threshold.
final class ReplicaSweepEndToEndTests: XCTestCase {
    func testAReplicaOfTheBaselineTrainsItsOwnSeedsAndIsJudged() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "aa.yaml",
            text: """
                name: aa-e2e
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: base
                seeds: [1, 2, 3]
                train: {width: 16, epochs: 2, max_train_rows: 600, max_val_rows: 200}
                variants:
                  base: {loss: cb_focal, gamma: 2.0}
                  base_aa: {replica_of: base}
                significance: {threshold_pp: 3.0, resamples: 200}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("aa.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("| base_aa (replica of base) |"), run.stdout)

        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        let replica = try XCTUnwrap(variants.first { $0["name"] as? String == "base_aa" })
        XCTAssertEqual(replica["replica_of"] as? String, "base")
        XCTAssertEqual(replica["paired_seeds"] as? [String], ["1", "2", "3"], "paired with the baseline by sweep seed")
        let seeds = try XCTUnwrap(replica["seeds"] as? [String])
        XCTAssertEqual(seeds.count, 3)
        XCTAssertTrue(Set(seeds).isDisjoint(with: ["1", "2", "3"]), "the replica trained with its own seeds: \(seeds)")
        XCTAssertEqual((replica["per_seed_delta_pp"] as? [Double])?.count, 3)
        XCTAssertEqual(replica["df"] as? Double, 2, "n − 1")
        let verdict = try XCTUnwrap(replica["verdict"] as? String)
        XCTAssertTrue(["undecided", "equivalent"].contains(verdict), "no true difference: \(verdict)")
        let warnings = report["warnings"] as? [String] ?? []
        XCTAssertFalse(warnings.contains { $0.hasPrefix("calibration:") }, "\(warnings)")
        // Six Stage-2 cells with six distinct seeds and ids, all finished.
        let cells = try XCTUnwrap(report["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 6)
        XCTAssertEqual(Set(cells.compactMap { $0["cell_id"] as? String }).count, 6)
    }
}
