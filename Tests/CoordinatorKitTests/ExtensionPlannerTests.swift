// ExtensionPlannerTests: `ablate extend` plans cells with the sweep's own identity rules; adaptive sweeps and replicas are refused.
import CoordinatorKit
import XCTest

final class ExtensionPlannerTests: XCTestCase {
    func sweep(seeds: String, replica: Bool = true) -> String {
        """
        name: ext
        dataset: d.h5
        stage1_checkpoint: s1.h5
        baseline: a
        seeds: \(seeds)
        train: {epochs: 3, loss: poly, command: [python3, train.py, --seed, "{seed}", --eps, "{epsilon}"]}
        variants:
          a: {epsilon: 2.0}
          b: {epsilon: 3.0}
        \(replica ? "  r: {replica_of: a}" : "")
        """
    }

    func plan(_ text: String) throws -> SweepPlan {
        try SweepPlan.make(
            Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: String(repeating: "d", count: 64),
            stage1CheckpointSHA256: String(repeating: "1", count: 64))
    }

    func testExtendedCellsHaveTheIdsOfASweepListingTheSeeds() throws {
        let planner = ExtensionPlanner(plan: try plan(sweep(seeds: "[1, 2]")), inputRefs: [:])
        let candidates = planner.candidates(variant: nil, seeds: [45, 2])
        XCTAssertNil(candidates.refusal)
        XCTAssertEqual(
            candidates.targets,
            [
                ExtensionSeed(variant: "a", seed: 45), ExtensionSeed(variant: "a", seed: 2),
                ExtensionSeed(variant: "b", seed: 45), ExtensionSeed(variant: "b", seed: 2),
            ])
        XCTAssertEqual(candidates.notes, ["replica variant(s) r not extended"])
        // The same cells a sweep written with these seeds plans (replicas aside, whose seeds derive from the list).
        let listed = try plan(sweep(seeds: "[1, 2, 45]", replica: false))
        for target in candidates.targets {
            let expected = listed.cells.first { $0.variant == target.variant && $0.seed == target.seed }
            XCTAssertEqual(candidates.cells[target]?.id, expected?.id, "\(target)")
        }
        let new = try XCTUnwrap(candidates.cells[ExtensionSeed(variant: "b", seed: 45)])
        XCTAssertEqual(candidates.commands[new.id]?.argv, ["python3", "train.py", "--seed", "45", "--eps", "3.0"])
        XCTAssertEqual(planner.candidates(variant: "b", seeds: [7]).targets, [ExtensionSeed(variant: "b", seed: 7)])
    }

    func testAdaptiveSweepsReplicasAndUnknownVariantsAreRefused() throws {
        let planner = ExtensionPlanner(plan: try plan(sweep(seeds: "[1, 2]")), inputRefs: [:])
        XCTAssertEqual(
            planner.candidates(variant: "r", seeds: [45]).refusal,
            "variant r is a replica of a: its seeds derive from the sweep's seeds, so it is not extended on its own")
        XCTAssertEqual(planner.candidates(variant: "z", seeds: [45]).refusal, "sweep ext has no variant 'z'")
        let adaptive = ExtensionPlanner(plan: try plan(sweep(seeds: "{initial: [1, 2], max: 4}")), inputRefs: [:])
        XCTAssertEqual(
            adaptive.candidates(variant: nil, seeds: [45]).refusal,
            "sweep ext collects its seeds adaptively (seeds: {initial, max}); extend adds seeds to a list of seeds only"
        )
    }
}
