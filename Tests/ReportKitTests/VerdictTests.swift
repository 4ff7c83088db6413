// VerdictTests: the seed-and-row verdict rule (better, worse, equivalent, undecided), the seed rule, disagreement.
import ReportKit
import XCTest

final class VerdictTests: XCTestCase {
    private func interval(_ deltas: [Double], rowSD: Double, alpha: Double = 0.05) throws -> SeedRowInterval {
        try XCTUnwrap(SeedRowInterval(perSeedDeltaPP: deltas, rowSDPP: rowSD, alpha: alpha))
    }

    private func judge(_ interval: SeedRowInterval?, pHolm: Double? = nil) -> Verdict {
        Verdict.judge(interval: interval, pHolm: pHolm ?? interval?.pValue, thresholdPP: 1, alpha: 0.05)
    }

    func testComponentsAndInterval() throws {
        // d = [4, 1]: var 4.5, V_seed 2.25, V_rows 0.25, df = n − 1 = 1 (not Welch–Satterthwaite's 1.2345…)
        let i = try interval([4, 1], rowSD: 0.5)
        XCTAssertEqual(i.deltaPP, 2.5)
        XCTAssertEqual(i.seedSDPP, 4.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(i.seedVariance, 2.25, accuracy: 1e-12)
        XCTAssertEqual(i.rowVariance, 0.25, accuracy: 1e-12)
        XCTAssertEqual(i.standardErrorPP, 2.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(i.df, 1)
        let half = StudentT.quantile(0.975, df: i.df) * i.standardErrorPP
        XCTAssertEqual(i.lowPP, 2.5 - half, accuracy: 1e-12)
        XCTAssertEqual(i.highPP, 2.5 + half, accuracy: 1e-12)
        XCTAssertEqual(i.pValue, StudentT.twoSidedP(2.5 / 2.5.squareRoot(), df: i.df), accuracy: 1e-15)
        XCTAssertLessThan(i.lowPP, 0, "two seeds that differ by 3 pp cannot exclude 0")
    }

    func testOneSeedHasNoIntervalAndIsUndecided() {
        XCTAssertNil(SeedRowInterval(perSeedDeltaPP: [5], rowSDPP: 0.1, alpha: 0.05))
        XCTAssertNil(SeedRowInterval(perSeedDeltaPP: [], rowSDPP: 0.1, alpha: 0.05))
        XCTAssertNil(SeedRowInterval(perSeedDeltaPP: [1, 2], rowSDPP: .nan, alpha: 0.05))
        XCTAssertEqual(judge(nil), .undecided)
    }

    /// Without predictions the interval is the seed component alone (row SD 0) and the same rule decides.
    func testSeedsOnlyIntervalIsJudged() throws {
        let seedsOnly = try interval([2.1, 1.9, 2.0], rowSD: 0)
        XCTAssertEqual(seedsOnly.rowVariance, 0)
        XCTAssertEqual(seedsOnly.standardErrorPP, seedsOnly.seedVariance.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(judge(seedsOnly), .better)
        XCTAssertEqual(judge(try interval([0.1, -0.1, 0.05, -0.05], rowSD: 0)), .equivalent)
    }

    func testBetterAndWorseNeedTestIntervalAndThreshold() throws {
        XCTAssertEqual(judge(try interval([2.1, 1.9, 2.0], rowSD: 0.3)), .better)
        XCTAssertEqual(judge(try interval([-3.0, -3.2, -2.8], rowSD: 0.3)), .worse)
        // Significant but within the threshold: not better; its 90 % interval lies inside ±1, so equivalent.
        let small = try interval([0.5, 0.6, 0.55], rowSD: 0.05)
        XCTAssertLessThan(small.pValue, 0.05)
        XCTAssertGreaterThan(small.lowPP, 0)
        XCTAssertEqual(judge(small), .equivalent)
        // Δ exactly at the threshold is not above it.
        XCTAssertEqual(judge(try interval([1, 1], rowSD: 0)), .undecided)
        // Holm still applies: the same interval with a corrected p above α is not better.
        let strong = try interval([2.1, 1.9, 2.0], rowSD: 0.3)
        XCTAssertEqual(judge(strong, pHolm: 0.2), .undecided)
        // Two seeds whose Δ is smaller than their spread: not better, though the seed rule says better.
        let noisy = try interval([4, 1], rowSD: 0.5)
        XCTAssertEqual(judge(noisy), .undecided)
        XCTAssertEqual(SeedRule.judge(deltaPP: noisy.deltaPP, thresholdPP: 1), .better)
    }

    func testNoSeedVarianceUsesTheRowsAlone() throws {
        let fixed = try interval([2, 2, 2], rowSD: 0.3)
        XCTAssertEqual(fixed.seedVariance, 0)
        XCTAssertEqual(fixed.df, 2, "n − 1, also when the seeds happen to agree")
        XCTAssertEqual(fixed.highPP - fixed.lowPP, 2 * 4.302653 * 0.3, accuracy: 1e-5)
        XCTAssertEqual(judge(fixed), .better)
        let exact = try interval([1.5, 1.5], rowSD: 0)
        XCTAssertEqual(exact.pValue, 0)
        XCTAssertEqual(judge(exact), .better)
        let nothing = try interval([0, 0], rowSD: 0)
        XCTAssertEqual(nothing.pValue, 1)
        XCTAssertEqual(judge(nothing), .equivalent)
        XCTAssertEqual(judge(try interval([0.1, 0.1, 0.1], rowSD: 0.2)), .equivalent)
        XCTAssertEqual(
            judge(try interval([0.1, 0.1], rowSD: 0.2)), .undecided, "1 df: the 90 % interval ±1.26 reaches past ±1")
    }

    func testEquivalenceNeedsTheWholeNarrowInterval() throws {
        // Δ̂ = 0.2 with seeds 0.9 pp apart: the 90 % interval reaches past ±1 with 2 seeds.
        XCTAssertEqual(judge(try interval([0.65, -0.25], rowSD: 0.2)), .undecided)
        // The same mean and spread over 12 seeds is narrow enough.
        let many = [Double](repeating: 0.65, count: 6) + [Double](repeating: -0.25, count: 6)
        XCTAssertEqual(judge(try interval(many, rowSD: 0.2)), .equivalent)
    }

    func testSeedsToDecide() throws {
        let noisy = try interval([4, 1], rowSD: 0.5)
        let seeds = try XCTUnwrap(noisy.seedsToDecide(thresholdPP: 1, alpha: 0.05))
        XCTAssertGreaterThan(seeds, 2)
        // The first m at which the observed components would decide, and not m − 1.
        func width(_ m: Int) -> Double {
            let v = 4.5 / Double(m)
            let df = SeedRowInterval.degreesOfFreedom(seeds: m)
            return StudentT.quantile(0.975, df: df) * (v + 0.25).squareRoot()
        }
        XCTAssertLessThan(width(seeds), 1.5)
        XCTAssertGreaterThanOrEqual(width(seeds - 1), 1.5)
        // Equivalence direction: Δ̂ 0.2, margin 0.8 with the one-sided quantile.
        XCTAssertNotNil(try interval([0.65, -0.25], rowSD: 0.2).seedsToDecide(thresholdPP: 1, alpha: 0.05))
        // The row component alone is too large: no number of seeds decides.
        XCTAssertNil(try interval([3, 2], rowSD: 5).seedsToDecide(thresholdPP: 1, alpha: 0.05))
        // Δ̂ on the threshold: neither direction can be shown.
        XCTAssertNil(try interval([1.5, 0.5], rowSD: 0.1).seedsToDecide(thresholdPP: 1, alpha: 0.05))
    }

    func testSeedRuleAndDisagreement() {
        // The research pipeline's 58.53 % vs 57.49 %: +1.04 pp passes its rule on the point estimate alone.
        XCTAssertEqual(SeedRule.judge(deltaPP: 1.04, thresholdPP: 1), .better)
        XCTAssertEqual(SeedRule.judge(deltaPP: -1.04, thresholdPP: 1), .worse)
        XCTAssertEqual(SeedRule.judge(deltaPP: 0.2, thresholdPP: 1), .withinThreshold)
        XCTAssertTrue(SeedRule.better.disagrees(with: .undecided))
        XCTAssertFalse(SeedRule.better.disagrees(with: .better))
        XCTAssertFalse(SeedRule.withinThreshold.disagrees(with: .equivalent))
        XCTAssertTrue(SeedRule.withinThreshold.disagrees(with: .undecided))
    }

    func testProbabilityOfImprovement() {
        XCTAssertEqual(ProbabilityOfImprovement.estimate(variant: [3, 5], baseline: [1, 4]), 0.75)
        XCTAssertEqual(ProbabilityOfImprovement.estimate(variant: [2, 2], baseline: [2, 1]), 0.75, "a tie counts ½")
        XCTAssertNil(ProbabilityOfImprovement.estimate(variant: [], baseline: [1]))
    }
}
