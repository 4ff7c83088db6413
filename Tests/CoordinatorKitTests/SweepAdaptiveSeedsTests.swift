// SweepAdaptiveSeedsTests: the adaptive form of `seeds` parses as documented, and its cells and replica seeds are stable.
import CoordinatorKit
import TestSupport
import XCTest

final class SweepAdaptiveSeedsTests: XCTestCase {
    let datasetHash = String(repeating: "d", count: 64)
    let stage1Hash = String(repeating: "1", count: 64)

    /// A sweep with `seeds` written as `seedsText` (line 4).
    func text(_ seedsText: String) -> String {
        """
        name: adaptive
        dataset: d.h5
        stage1_checkpoint: s1.h5
        seeds: \(seedsText)
        baseline: a
        variants:
          a: {loss: ce}
          b: {loss: focal}
          aa: {replica_of: a}
        """
    }

    func plan(_ text: String) throws -> SweepPlan {
        try SweepPlan.make(
            Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: datasetHash,
            stage1CheckpointSHA256: stage1Hash)
    }

    func testMappingFormGivesInitialSeedsAndTheSequence() throws {
        let sweep = try Sweep.parse(text: text("{initial: [44, 42, 43], max: 6}"), workingDirectory: "/w")
        XCTAssertEqual(sweep.seeds, [44, 42, 43])
        XCTAssertEqual(sweep.maxSeeds, 6)
        XCTAssertTrue(sweep.isAdaptive)
        XCTAssertEqual(sweep.seedSequence, [44, 42, 43, 45, 46, 47], "initial in file order, then max(initial)+1, …")
        let block = try Sweep.parse(text: text("\n  initial: [7]\n  max: 1"), workingDirectory: "/w")
        XCTAssertEqual(block.seedSequence, [7], "max equal to the initial count: no later seeds")
        let list = try Sweep.parse(text: text("[42, 43, 44]"), workingDirectory: "/w")
        XCTAssertNil(list.maxSeeds)
        XCTAssertFalse(list.isAdaptive)
        XCTAssertEqual(list.seedSequence, [42, 43, 44])
    }

    func testEachBadMappingIsOneProblemAtItsLineAndKey() throws {
        let cases: [(seeds: String, key: String, message: String)] = [
            ("{initial: [42, 43, 44], max: 2}", "seeds.max", "2 must be at least the number of initial seeds (3)"),
            ("{initial: [42], max: 101}", "seeds.max", "101 must be at most 100"),
            ("{initial: [42], max: 5, step: 2}", "seeds.step", "unknown key (expected initial or max)"),
            ("{initial: [42], max: ten}", "seeds.max", "expected an integer, found 'ten'"),
            ("{initial: [42], max: 2.5}", "seeds.max", "expected an integer, found '2.5'"),
            ("{initial: [42, x], max: 5}", "seeds.initial[1]", "expected a non-negative integer, found 'x'"),
            ("{initial: [42, -1], max: 5}", "seeds.initial[1]", "expected a non-negative integer, found '-1'"),
            ("{initial: [], max: 5}", "seeds.initial", "must list at least one seed"),
            ("{initial: [42, 43, 42], max: 5}", "seeds.initial[2]", "duplicate seed 42 (first on line 4)"),
            ("{initial: 42, max: 5}", "seeds.initial", "expected a list, found '42'"),
            ("{max: 5}", "seeds.initial", "missing (required)"),
            ("{initial: [42]}", "seeds.max", "missing (required)"),
            (
                "{initial: [18446744073709551614], max: 3}", "seeds.max",
                "the seeds after max(initial) would pass 18446744073709551615; use smaller initial seeds"
            ),
            ("42", "seeds", "expected a list of seeds or {initial: [...], max: N}, found '42'"),
        ]
        for item in cases {
            let error = try XCTUnwrap(sweepProblems(text(item.seeds)), item.seeds)
            XCTAssertEqual(error.problems.count, 1, "\(item.seeds): \(error)")
            XCTAssertEqual(error.problems.first?.line, 4, item.seeds)
            XCTAssertEqual(error.problems.first?.key, item.key, item.seeds)
            XCTAssertEqual(error.problems.first?.message, item.message, item.seeds)
            XCTAssertEqual(error.description, "bad.yaml:4: \(item.key): \(item.message)", item.seeds)
        }
    }

    func testListFormCellIdsAreThoseOfTheInitialSeedsAndLaterCellsAreApart() throws {
        let list = try plan(text("[42, 43]"))
        let adaptive = try plan(text("{initial: [42, 43], max: 4}"))
        let ordinary = { (plan: SweepPlan) in plan.cells.filter { $0.variant != "aa" } }
        XCTAssertEqual(
            ordinary(adaptive).map(\.id), ordinary(list).map(\.id), "the initial seeds' cells are the list form's")
        XCTAssertTrue(list.laterCells.isEmpty)
        XCTAssertEqual(
            adaptive.laterCells.map { "\($0.variant)/\($0.sweepSeed)" },
            ["a/44", "a/45", "b/44", "b/45", "aa/44", "aa/45"])
        let later = try XCTUnwrap(adaptive.laterCells.first)
        XCTAssertEqual(
            later.id,
            try SweepPlan.cellID(
                config: later.config, datasetContentHash: datasetHash, stage1: stage1Hash, command: nil),
            "a later cell's id is computed as any other's")
        XCTAssertEqual(adaptive.cell(id: later.id), later)
        // A later seed is the seed an initial seed with that value would have: the same cell.
        let wider = try plan(text("[42, 43, 44]"))
        XCTAssertEqual(
            wider.cells.first { $0.variant == "b" && $0.seed == 44 }?.id,
            adaptive.laterCells.first { $0.variant == "b" && $0.seed == 44 }?.id)
        XCTAssertEqual(Set((adaptive.cells + adaptive.laterCells).map(\.id)).count, 12)
    }

    func testReplicaSeedsCoverTheWholeSequenceAndDoNotDependOnIt() throws {
        let adaptive = try Sweep.parse(text: text("{initial: [42, 43], max: 5}"), workingDirectory: "/w")
        let seeds = try XCTUnwrap(ReplicaSeeds.seeds(of: adaptive)["aa"])
        XCTAssertEqual(Set(seeds.keys), [42, 43, 44, 45, 46], "every seed of the sequence, used or not")
        XCTAssertTrue(Set(seeds.values).isDisjoint(with: adaptive.seedSequence))
        // The same as the list form's for these seeds (no collision here), and as a sweep that planned them all.
        let list = try Sweep.parse(text: text("[42, 43]"), workingDirectory: "/w")
        XCTAssertEqual(ReplicaSeeds.seeds(of: list)["aa"], seeds.filter { $0.key <= 43 })
        let larger = try Sweep.parse(text: text("{initial: [42, 43], max: 9}"), workingDirectory: "/w")
        XCTAssertEqual(ReplicaSeeds.seeds(of: larger)["aa"]?.filter { $0.key <= 46 }, seeds)
        XCTAssertEqual(seeds[42], ReplicaSeeds.derived(replica: "aa", sweepSeed: 42, attempt: 0))
        // The replica's later cells train with those seeds and stand for their sweep seed.
        let plan = try SweepPlan.make(adaptive, datasetContentHash: datasetHash, stage1CheckpointSHA256: stage1Hash)
        for cell in plan.laterCells where cell.variant == "aa" {
            XCTAssertEqual(cell.seed, seeds[cell.sweepSeed])
        }
    }

    func testLedgerAddPlannedCellsPlansNewAndUnplannedCellsOnce() throws {
        let dir = TemporaryDirectory("adaptive-ledger")
        let ledger = try Ledger(directory: dir.path)
        let first = LedgerFixtures.cell("a", position: 0)
        let old = LedgerFixtures.cell("b", position: 1)
        try ledger.addCells([first, old])
        try ledger.setPlan([first.id])
        XCTAssertEqual(try ledger.plannedCells().map(\.id), [first.id])
        var held = old
        held.state = .failed
        held.reason = "earlier"
        // `old` is in the ledger (unplanned, with its history): planned again as stored, not reset.
        try ledger.update(held)
        let added = LedgerFixtures.cell("c", position: 2)
        let stored = try ledger.addPlannedCells([held, added])
        XCTAssertEqual(stored.map(\.state), [.failed, .pending])
        XCTAssertEqual(try ledger.plannedCells().map(\.id), [first.id, old.id, added.id])
        XCTAssertEqual(try ledger.addPlannedCells([added]).count, 1)
        XCTAssertEqual(try ledger.cells().count, 3, "no cell twice")
    }
}
