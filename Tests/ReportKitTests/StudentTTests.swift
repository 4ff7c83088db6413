// StudentTTests: the Student-t CDF and quantile against scipy.stats.t.
import ReportKit
import XCTest

final class StudentTTests: XCTestCase {
    /// (t, df, scipy.stats.t.cdf(t, df)) with SciPy 1.17.
    private let cdfCases: [(Double, Double, Double)] = [
        (0.5, 1, 0.6475836176504333), (1.3, 2, 0.8383764840919798), (-2.2, 3, 0.05758597598823534),
        (2.0, 4.5, 0.9458710464094375), (0.1, 30, 0.5394951941048645), (-3.7, 7.25, 0.0035957567968789455),
        (12.0, 2, 0.9965635331614208), (1.96, 1e6, 0.9750019662073651), (-0.7, 0.8, 0.31668488794590494),
        (5.5, 100, 0.9999998538289273),
    ]
    /// (p, df, scipy.stats.t.ppf(p, df)).
    private let quantileCases: [(Double, Double, Double)] = [
        (0.975, 1, 12.706204736174694), (0.975, 2, 4.302652729749462), (0.975, 2.7, 3.3921483831737507),
        (0.95, 3, 2.3533634348018233), (0.025, 4.5, -2.658912347204404), (0.995, 10, 3.16927267261695),
        (0.999, 1.5, 52.18443000899263), (0.6, 20, 0.2567427538545021), (0.975, 1e6, 1.959966356814107),
        (1e-6, 5, -24.771029720515948), (0.95, 60.3, 1.6705185320161173),
    ]

    func testCDFMatchesSciPy() {
        var largest = 0.0
        for (t, df, expected) in cdfCases {
            let mine = StudentT.cdf(t, df: df)
            largest = max(largest, abs(mine - expected))
            XCTAssertEqual(mine, expected, accuracy: 1e-10, "cdf(\(t), df \(df))")
            XCTAssertEqual(StudentT.cdf(-t, df: df), 1 - expected, accuracy: 1e-10, "symmetry at \(t), df \(df)")
        }
        print("Student-t CDF: largest difference to SciPy \(largest)")
    }

    func testQuantileMatchesSciPyRelatively() {
        var largest = 0.0
        for (p, df, expected) in quantileCases {
            let mine = StudentT.quantile(p, df: df)
            let relative = abs(mine - expected) / max(1, abs(expected))
            largest = max(largest, relative)
            XCTAssertLessThan(relative, 1e-10, "ppf(\(p), df \(df)) = \(mine), SciPy \(expected)")
            // Round trip within 1e-11: at ν near 10⁶ the continued fraction's two sides meet only to about 2e-12.
            XCTAssertEqual(StudentT.cdf(mine, df: df), p, accuracy: 1e-11, "round trip at \(p), df \(df)")
        }
        print("Student-t quantile: largest relative difference to SciPy \(largest)")
    }

    func testEdgesAndTwoSidedP() {
        XCTAssertEqual(StudentT.quantile(0.5, df: 3), 0)
        XCTAssertEqual(StudentT.quantile(0, df: 3), -.infinity)
        XCTAssertEqual(StudentT.quantile(1, df: 3), .infinity)
        XCTAssertTrue(StudentT.quantile(0.5, df: 0).isNaN)
        XCTAssertTrue(StudentT.cdf(1, df: -1).isNaN)
        XCTAssertEqual(StudentT.cdf(.infinity, df: 2), 1)
        XCTAssertEqual(StudentT.cdf(0, df: 2), 0.5, accuracy: 1e-15)
        // scipy: 2 * t.sf(2.2, 3) and 2 * t.sf(12.0, 2).
        XCTAssertEqual(StudentT.twoSidedP(2.2, df: 3), 2 * 0.05758597598823534, accuracy: 1e-12)
        XCTAssertEqual(StudentT.twoSidedP(-12.0, df: 2), 2 * (1 - 0.9965635331614208), accuracy: 1e-12)
        XCTAssertEqual(StudentT.twoSidedP(0, df: 5), 1, accuracy: 1e-15)
    }
}
