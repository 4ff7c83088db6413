// AdaptivePlannerTests: the loop's planner turns decisions into ledger records of later seeds and logs changed reasons.
import CoordinatorKit
import XCTest

final class AdaptivePlannerTests: XCTestCase {
    let text = """
        name: p
        dataset: d.h5
        stage1: {epochs: 1}
        baseline: base
        seeds: {initial: [1, 2], max: 3}
        variants:
          base: {loss: ce}
          poly: {loss: poly}
          poly_aa: {replica_of: poly}
        """

    func plan() throws -> SweepPlan {
        try SweepPlan.make(
            Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: String(repeating: "d", count: 64),
            stage1CheckpointSHA256: nil)
    }

    /// The ledger records of `plan`'s initial cells, each in state `state` (the stage-1 job done).
    func records(_ plan: SweepPlan, _ state: CellState) throws -> [CellRecord] {
        try plan.cells.enumerated().map { index, cell in
            var record = try SweepPlan.record(cell, position: index)
            record.state = cell.id == plan.stage1Cell?.id ? .done : state
            return record
        }
    }

    func testListSweepHasNoPlanner() throws {
        let list = try SweepPlan.make(
            Sweep.parse(
                text: text.replacingOccurrences(of: "{initial: [1, 2], max: 3}", with: "[1, 2]"),
                workingDirectory: "/w"),
            datasetContentHash: String(repeating: "d", count: 64), stage1CheckpointSHA256: nil)
        XCTAssertNil(try AdaptivePlanner(plan: list))
    }

    func testUndecidedVerdictsGiveTheLaterSeedsRecordsOnce() throws {
        let plan = try plan()
        var planner = try XCTUnwrap(try AdaptivePlanner(plan: plan))
        let mailbox = AdaptiveMailbox()
        let running = try records(plan, .running)
        let first = planner.step(cells: running, mailbox: mailbox)
        XCTAssertEqual(first.records, [])
        XCTAssertFalse(first.settled)
        XCTAssertEqual(
            first.logs,
            [
                "adaptive seeds: poly: collecting the 2 initial seeds (at most 3)",
                "adaptive seeds: poly_aa: collecting the 2 initial seeds (at most 3)",
            ])
        XCTAssertEqual(planner.step(cells: running, mailbox: mailbox).logs, [], "a reason is logged when it changes")

        let done = try records(plan, .done)
        let doneCount = AdaptivePlanner.doneCount(done)
        XCTAssertEqual(doneCount, 7)
        // A failed build over the current cells keeps the earlier verdicts; here there were none: nothing more.
        mailbox.post(AdaptiveReportBatch(judgements: [:], problem: "no predictions", basis: doneCount))
        let failed = planner.step(cells: done, mailbox: mailbox)
        XCTAssertEqual(failed.records, [])
        XCTAssertTrue(failed.settled)
        XCTAssertTrue(failed.logs.contains("adaptive seeds: the report failed: no predictions"), "\(failed.logs)")

        var fresh = try XCTUnwrap(try AdaptivePlanner(plan: plan))
        mailbox.post(
            AdaptiveReportBatch(
                judgements: [
                    "poly": AdaptiveJudgement(verdict: .undecided, pairedSeeds: 2),
                    "poly_aa": AdaptiveJudgement(verdict: .undecided, pairedSeeds: 2),
                ],
                basis: doneCount))
        let step = fresh.step(cells: done, mailbox: mailbox)
        XCTAssertFalse(step.settled)
        let later = plan.laterCells
        XCTAssertEqual(step.records.map(\.id), [later[0].id, later[1].id, later[2].id], "base/3, poly/3, poly_aa/3")
        XCTAssertEqual(step.records.map(\.position), [plan.cells.count, plan.cells.count + 1, plan.cells.count + 2])
        XCTAssertEqual(
            step.records[2].seed, try XCTUnwrap(ReplicaSeeds.seeds(of: plan.sweep)["poly_aa"]?[3]),
            "a replica trains with its own seed")
        XCTAssertEqual(step.records.map(\.dependsOn), Array(repeating: plan.stage1Cell?.id, count: 3))
        // Once added (in flight), nothing is asked for again.
        var added = done
        added += step.records
        XCTAssertEqual(fresh.step(cells: added, mailbox: mailbox).records, [])
    }
}
