// AdaptiveSeedsTests: the adaptive-seed decision — verdicts and cell progress in, later seeds and reasons out.
import CoordinatorKit
import XCTest

final class AdaptiveSeedsTests: XCTestCase {
    typealias Cell = AdaptiveSeeds.SeedCell

    /// Baseline `base`, variants `poly` and `focal`; sequence 42, 43, 44 then 45, 46 (max 5).
    let design = AdaptiveSeeds(
        baseline: "base", variants: ["base", "poly", "focal"], sequence: [42, 43, 44, 45, 46], initialCount: 3)

    /// Every variant's cells of `seeds` in state `progress`.
    func cells(
        _ seeds: [UInt64], _ progress: AdaptiveSeeds.Progress = .done, variants: [String] = ["base", "poly", "focal"]
    )
        -> [Cell: AdaptiveSeeds.Progress]
    {
        var out: [Cell: AdaptiveSeeds.Progress] = [:]
        for variant in variants { for seed in seeds { out[Cell(variant: variant, sweepSeed: seed)] = progress } }
        return out
    }

    func judged(_ poly: AdaptiveVerdict, _ focal: AdaptiveVerdict, paired: Int = 3) -> [String: AdaptiveJudgement] {
        [
            "poly": AdaptiveJudgement(verdict: poly, pairedSeeds: paired),
            "focal": AdaptiveJudgement(verdict: focal, pairedSeeds: paired),
        ]
    }

    func testUndecidedGetsTheNextSeedForItAndTheBaselineOnce() {
        let decision = design.decide(cells: cells([42, 43, 44]), judgements: judged(.undecided, .undecided))
        XCTAssertEqual(
            decision.additions,
            [
                Cell(variant: "base", sweepSeed: 45), Cell(variant: "poly", sweepSeed: 45),
                Cell(variant: "focal", sweepSeed: 45),
            ],
            "two variants needing seed 45: the baseline's cell is added once")
        XCTAssertFalse(decision.settled)
        XCTAssertEqual(decision.reason("poly"), "undecided at 3 seeds, adding seed 4 of at most 5 (seed 45)")
        XCTAssertNil(decision.reason("base"), "the baseline has no reason of its own")
    }

    func testDecidedVariantsGetNothingAndTheSweepSettles() {
        for verdict in [AdaptiveVerdict.better, .worse, .equivalent] {
            let decision = design.decide(cells: cells([42, 43, 44]), judgements: judged(verdict, .untested))
            XCTAssertEqual(decision.additions, [], "\(verdict)")
            XCTAssertTrue(decision.settled)
            XCTAssertEqual(decision.reason("poly"), "\(verdict.rawValue) at 3 seeds")
            XCTAssertEqual(decision.reason("focal"), "not tested at 3 seeds (no comparison); no more seeds")
        }
    }

    func testOnlyTheUndecidedVariantExtendsAndTheBaselineSeedIsNotAddedTwice() {
        var state = cells([42, 43, 44])
        state[Cell(variant: "base", sweepSeed: 45)] = .done  // the baseline has seed 45 already (for another variant)
        state[Cell(variant: "focal", sweepSeed: 45)] = .done
        var judgements = judged(.undecided, .better)
        judgements["focal"] = AdaptiveJudgement(verdict: .better, pairedSeeds: 4)
        let decision = design.decide(cells: state, judgements: judgements)
        XCTAssertEqual(decision.additions, [Cell(variant: "poly", sweepSeed: 45)])
        XCTAssertEqual(decision.reason("focal"), "better at 4 seeds")
    }

    func testMaximumReachedGivesNothing() {
        let all = cells([42, 43, 44, 45, 46])
        let decision = design.decide(cells: all, judgements: judged(.undecided, .undecided, paired: 5))
        XCTAssertEqual(decision.additions, [])
        XCTAssertTrue(decision.settled)
        XCTAssertEqual(decision.reason("poly"), "undecided at the maximum of 5 seeds")
    }

    func testCellsInFlightHoldTheVariantOneSeedAtATime() {
        var state = cells([42, 43, 44, 45])
        state[Cell(variant: "poly", sweepSeed: 45)] = .inFlight
        // Even a stale judgement that says undecided must not add seed 46 while 45 runs.
        let decision = design.decide(cells: state, judgements: judged(.undecided, .undecided, paired: 4))
        XCTAssertEqual(
            decision.additions, [Cell(variant: "base", sweepSeed: 46), Cell(variant: "focal", sweepSeed: 46)])
        XCTAssertFalse(decision.settled)
        XCTAssertEqual(decision.reason("poly"), "undecided, collecting seed 4 of at most 5")
        // The baseline's cell of one of its seeds in flight holds it too.
        var baseRunning = cells([42, 43, 44])
        baseRunning[Cell(variant: "base", sweepSeed: 44)] = .inFlight
        let initial = design.decide(cells: baseRunning, judgements: judged(.undecided, .undecided, paired: 2))
        XCTAssertEqual(initial.additions, [])
        XCTAssertFalse(initial.settled)
        XCTAssertEqual(initial.reason("poly"), "collecting the 3 initial seeds (at most 5)")
    }

    func testAStaleVerdictIsWaitedForUnlessTheReportIsCurrent() {
        let state = cells([42, 43, 44])
        let stale = judged(.undecided, .undecided, paired: 2)
        let waiting = design.decide(cells: state, judgements: stale)
        XCTAssertEqual(waiting.additions, [])
        XCTAssertFalse(waiting.settled, "the judge has not seen the last seeds: the sweep must not finish")
        XCTAssertEqual(waiting.reason("poly"), "waiting for the report's verdict on 3 paired seeds")
        XCTAssertFalse(design.decide(cells: state, judgements: [:]).settled)
        // A report over the current cells is taken as it is (it may pair fewer cells, e.g. one it could not read).
        let current = design.decide(cells: state, judgements: stale, reportIsCurrent: true)
        XCTAssertEqual(current.additions.count, 3)
        // A failed build over the current cells ends the waiting: no verdict, no more seeds.
        let failed = design.decide(cells: state, judgements: stale, reportIsCurrent: true, reportFailed: true)
        XCTAssertEqual(failed.additions, [])
        XCTAssertTrue(failed.settled)
        XCTAssertEqual(failed.reason("poly"), "no verdict: the report could not judge it; no more seeds")
        // A failed build does not discard a verdict that is current by its paired seeds.
        let kept = design.decide(
            cells: state, judgements: judged(.better, .undecided), reportIsCurrent: true, reportFailed: true)
        XCTAssertEqual(kept.reason("poly"), "better at 3 seeds")
        XCTAssertEqual(kept.additions.count, 2)
    }

    func testFailedCellsCountAsPlannedButNotPaired() {
        var state = cells([42, 43, 44])
        state[Cell(variant: "poly", sweepSeed: 44)] = .failed
        // Judged on 2 paired seeds, undecided: the next seed is 45 (the failed seed is not retried).
        let decision = design.decide(
            cells: state,
            judgements: [
                "poly": AdaptiveJudgement(verdict: .undecided, pairedSeeds: 2),
                "focal": AdaptiveJudgement(verdict: .equivalent, pairedSeeds: 3),
            ])
        XCTAssertEqual(
            decision.additions, [Cell(variant: "base", sweepSeed: 45), Cell(variant: "poly", sweepSeed: 45)])
        XCTAssertEqual(decision.reason("poly"), "undecided at 2 seeds, adding seed 4 of at most 5 (seed 45)")
        // At the maximum with a failed seed the reason says how many were paired.
        var full = cells([42, 43, 44, 45, 46])
        full[Cell(variant: "poly", sweepSeed: 46)] = .failed
        let atMax = design.decide(
            cells: full,
            judgements: [
                "poly": AdaptiveJudgement(verdict: .undecided, pairedSeeds: 4),
                "focal": AdaptiveJudgement(verdict: .worse, pairedSeeds: 5),
            ])
        XCTAssertEqual(atMax.additions, [])
        XCTAssertEqual(atMax.reason("poly"), "undecided at the maximum of 5 seeds (4 paired)")
        // Every baseline cell failed: nothing can be compared, so nothing more is asked for, verdict or not.
        var baseFailed = cells([42, 43, 44])
        for seed: UInt64 in [42, 43, 44] { baseFailed[Cell(variant: "base", sweepSeed: seed)] = .failed }
        let none = design.decide(cells: baseFailed, judgements: [:])
        XCTAssertEqual(none.additions, [])
        XCTAssertTrue(none.settled)
        XCTAssertEqual(none.reason("poly"), "no paired seed to compare (failed cells); no more seeds")
    }

    func testAGapInTheSequenceIsFilledFirst() {
        // Cells of seed 46 planned by an earlier run, 45 not: the next seed is the first the variant lacks.
        var state = cells([42, 43, 44, 46])
        state[Cell(variant: "focal", sweepSeed: 46)] = nil
        let decision = design.decide(
            cells: state,
            judgements: [
                "poly": AdaptiveJudgement(verdict: .undecided, pairedSeeds: 4),
                "focal": AdaptiveJudgement(verdict: .undecided, pairedSeeds: 3),
            ])
        XCTAssertEqual(
            decision.additions,
            [
                Cell(variant: "base", sweepSeed: 45), Cell(variant: "poly", sweepSeed: 45),
                Cell(variant: "focal", sweepSeed: 45),
            ])
    }

    func testDesignOfASweep() throws {
        let sweep = try Sweep.parse(
            text: """
                name: s
                dataset: d.h5
                stage1_checkpoint: s1.h5
                baseline: b
                seeds: {initial: [3, 1], max: 4}
                variants: {b: {loss: ce}, v: {loss: focal}}
                """, workingDirectory: "/w")
        let design = try XCTUnwrap(AdaptiveSeeds(sweep: sweep))
        XCTAssertEqual(design.sequence, [3, 1, 4, 5])
        XCTAssertEqual(design.maximum, 4)
        XCTAssertEqual(design.initialCount, 2)
        XCTAssertEqual(design.variants, ["b", "v"])
        var list = sweep
        list.maxSeeds = nil
        XCTAssertNil(AdaptiveSeeds(sweep: list))
    }

    func testMailboxHandsTheLatestBatchOverOnce() {
        let mailbox = AdaptiveMailbox()
        XCTAssertNil(mailbox.take())
        mailbox.post(AdaptiveReportBatch(judgements: [:], basis: 1))
        mailbox.post(AdaptiveReportBatch(judgements: judged(.better, .worse), basis: 2))
        XCTAssertEqual(mailbox.take()?.basis, 2, "an unread batch is replaced")
        XCTAssertNil(mailbox.take())
    }
}
