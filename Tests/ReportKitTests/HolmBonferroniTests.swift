// HolmBonferroniTests: Holm's adjusted p-values on hand-computed cases.
import ReportKit
import XCTest

final class HolmBonferroniTests: XCTestCase {
    func testStepDownWithMonotonicity() throws {
        // Sorted 0.01, 0.02, 0.03, 0.5 → 4·0.01 = 0.04, 3·0.02 = 0.06, max(0.06, 2·0.03) = 0.06, max(0.06, 0.5) = 0.5.
        let adjusted = HolmBonferroni.adjust([0.03, 0.5, 0.01, 0.02])
        let expected = [0.06, 0.5, 0.04, 0.06]
        for (value, want) in zip(adjusted, expected) { XCTAssertEqual(try XCTUnwrap(value), want, accuracy: 1e-12) }
    }

    func testCapsAtOneAndSkipsMissing() throws {
        let adjusted = HolmBonferroni.adjust([0.4, nil, 0.6])
        XCTAssertNil(adjusted[1])
        XCTAssertEqual(try XCTUnwrap(adjusted[0]), 0.8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(adjusted[2]), 0.8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(HolmBonferroni.adjust([0.7, 0.9])[1]), 1.0, accuracy: 1e-12)
    }
}
