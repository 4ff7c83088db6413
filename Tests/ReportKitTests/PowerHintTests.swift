// PowerHintTests: the normal quantile and the seeds-needed formula on hand-computed values.
import ReportKit
import XCTest

final class PowerHintTests: XCTestCase {
    func testNormalQuantile() {
        XCTAssertEqual(PowerHint.normalQuantile(0.975), 1.959963984540054, accuracy: 1e-9)
        XCTAssertEqual(PowerHint.normalQuantile(0.8), 0.8416212335729143, accuracy: 1e-9)
        XCTAssertEqual(PowerHint.normalQuantile(0.5), 0, accuracy: 1e-12)
    }

    func testSeedsNeeded() throws {
        // s = 1 pp on both sides, δ = 1 pp: n = 2 · (1.95996 + 0.84162)² · 1 / 1 = 15.70 → 16.
        XCTAssertEqual(PowerHint.seedsNeeded(variantSD: 1, baselineSD: 1, thresholdPP: 1, alpha: 0.05), 16)
        // Spread 0.3 pp: 2 · 7.849 · 0.09 = 1.41 → at least 2.
        XCTAssertEqual(PowerHint.seedsNeeded(variantSD: 0.3, baselineSD: 0.3, thresholdPP: 1, alpha: 0.05), 2)
        // Pooled variance (0.5² + 1.5²)/2 = 1.25: 2 · 7.849 · 1.25 = 19.62 → 20.
        XCTAssertEqual(PowerHint.seedsNeeded(variantSD: 0.5, baselineSD: 1.5, thresholdPP: 1, alpha: 0.05), 20)
        XCTAssertNil(PowerHint.seedsNeeded(variantSD: nil, baselineSD: 1, thresholdPP: 1, alpha: 0.05))
    }
}
