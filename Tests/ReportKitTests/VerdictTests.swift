// VerdictTests: the significance rule, the research pipeline's seed rule and where they disagree.
import ReportKit
import XCTest

final class VerdictTests: XCTestCase {
    private let above = DeltaInterval(lowPP: 0.4, highPP: 2.6, perClassLowPP: [], perClassHighPP: [])
    private let across = DeltaInterval(lowPP: -0.3, highPP: 2.9, perClassLowPP: [], perClassHighPP: [])
    private let below = DeltaInterval(lowPP: -2.6, highPP: -0.4, perClassLowPP: [], perClassHighPP: [])

    func testBetterNeedsThresholdTestAndInterval() {
        XCTAssertEqual(Verdict.judge(deltaPP: 1.5, thresholdPP: 1, pHolm: 0.01, interval: above, alpha: 0.05), .better)
        XCTAssertEqual(Verdict.judge(deltaPP: 0.8, thresholdPP: 1, pHolm: 0.01, interval: above, alpha: 0.05), .noSignificantDifference)
        XCTAssertEqual(Verdict.judge(deltaPP: 1.5, thresholdPP: 1, pHolm: 0.2, interval: above, alpha: 0.05), .noSignificantDifference)
        XCTAssertEqual(Verdict.judge(deltaPP: 1.5, thresholdPP: 1, pHolm: 0.01, interval: across, alpha: 0.05), .noSignificantDifference)
        XCTAssertEqual(Verdict.judge(deltaPP: -1.5, thresholdPP: 1, pHolm: 0.01, interval: below, alpha: 0.05), .worse)
        XCTAssertEqual(Verdict.judge(deltaPP: 1.5, thresholdPP: 1, pHolm: nil, interval: nil, alpha: 0.05), .untested)
    }

    func testSeedRuleAndDisagreement() {
        // The research pipeline's 58.53 % vs 57.49 %: +1.04 pp passes its rule on the point estimate alone.
        XCTAssertEqual(SeedRule.judge(deltaPP: 1.04, thresholdPP: 1), .better)
        XCTAssertEqual(SeedRule.judge(deltaPP: -1.04, thresholdPP: 1), .worse)
        XCTAssertEqual(SeedRule.judge(deltaPP: 0.2, thresholdPP: 1), .withinThreshold)
        XCTAssertTrue(SeedRule.better.disagrees(with: .noSignificantDifference))
        XCTAssertFalse(SeedRule.better.disagrees(with: .better))
        XCTAssertFalse(SeedRule.withinThreshold.disagrees(with: .noSignificantDifference))
    }
}
