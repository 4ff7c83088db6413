// SignificanceReferenceTests: bootstrap CIs, randomization p-values, the seed-and-row verdicts and Holm against NumPy/SciPy.
import AblateSupport
import Foundation
import ReportKit
import TestSupport
import XCTest

/// Compares ReportKit's statistics with scripts/report_reference.py on its committed fixture (3 variants × 3 seeds ×
/// 2,000 rows, 10,000 resamples and rounds). Both sides draw the same NumPy `default_rng` streams (Lemire's
/// `integers`), so the intervals and p-values agree up to floating-point summation order; the tolerances
/// (CI bounds within 0.1 pp, p within ±0.01) are far wider than that, and each test reports its largest difference.
final class SignificanceReferenceTests: XCTestCase {
    private func comparisons(_ fixture: ReferenceFixture) throws -> [RowPatterns] {
        let baseline = try XCTUnwrap(fixture.inputs.systems[fixture.inputs.baseline])
        return try fixture.names.map { name in
            try RowPatterns(
                labels: fixture.inputs.labels, variant: try XCTUnwrap(fixture.inputs.systems[name]), baseline: baseline,
                classes: fixture.inputs.classes)
        }
    }

    func testLemireDrawsMatchNumPyIntegers() {
        // numpy.random.default_rng(7).integers(0, 2000, size=8) and default_rng(8).integers(0, 2, size=8).
        var generator = NumPyGenerator(seed: 7).bitGenerator
        let rows = (0..<8).map { _ in Int(generator.lemireBelow(2000)) }
        var bits = NumPyGenerator(seed: 8).bitGenerator
        let swaps = (0..<8).map { _ in Int(bits.lemireBelow(2)) }
        let expected = try? Python.numbers(
            "import numpy as np; print(*np.random.default_rng(7).integers(0, 2000, size=8)); print(*np.random.default_rng(8).integers(0, 2, size=8))"
        )
        guard let expected else { return XCTAssertEqual(rows.count, 8) }
        XCTAssertEqual(rows, Array(expected.prefix(8)))
        XCTAssertEqual(swaps, Array(expected.dropFirst(8)))
    }

    func testObservedDeltaMatchesReference() throws {
        let fixture = try ReferenceFixture.load()
        var perClass: [Double] = []
        for (comparison, name) in zip(try comparisons(fixture), fixture.names) {
            let expected = try XCTUnwrap(fixture.expected.variants[name])
            let delta = 100 * comparison.delta(counts: comparison.counts, perClass: &perClass)
            XCTAssertEqual(delta, expected.delta_pp, accuracy: 1e-9, name)
            for (mine, theirs) in zip(perClass.map { 100 * $0 }, expected.per_class_delta_pp) {
                XCTAssertEqual(mine, theirs, accuracy: 1e-9, name)
            }
        }
    }

    func testBootstrapIntervalsMatchReference() throws {
        let fixture = try ReferenceFixture.load()
        let start = Date()
        let intervals = try PairedBootstrap.intervals(
            try comparisons(fixture), resamples: fixture.inputs.resamples,
            seed: fixture.inputs.seed, alpha: fixture.inputs.alpha)
        var largest = 0.0
        for (interval, name) in zip(intervals, fixture.names) {
            let expected = try XCTUnwrap(fixture.expected.variants[name])
            let pairs =
                [(interval.lowPP, expected.ci_low_pp), (interval.highPP, expected.ci_high_pp)]
                + Array(zip(interval.perClassLowPP, expected.per_class_ci_low_pp))
                + Array(zip(interval.perClassHighPP, expected.per_class_ci_high_pp))
            for (mine, theirs) in pairs {
                largest = max(largest, abs(mine - theirs))
                XCTAssertEqual(mine, theirs, accuracy: 0.1, "\(name): CI bound")
            }
        }
        XCTAssertLessThan(largest, 1e-6, "the same resampling stream should give the same bounds")
        print(
            "bootstrap: largest CI-bound difference to the NumPy reference \(largest) pp (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)"
        )
    }

    func testRandomizationAndHolmMatchReference() throws {
        let fixture = try ReferenceFixture.load()
        let p = try ApproximateRandomization.pValues(
            try comparisons(fixture), rounds: fixture.inputs.resamples, seed: fixture.inputs.seed &+ 1)
        let holm = HolmBonferroni.adjust(p)
        var largest = 0.0
        for (index, name) in fixture.names.enumerated() {
            let expected = try XCTUnwrap(fixture.expected.variants[name])
            let adjusted = try XCTUnwrap(holm[index])
            largest = max(largest, abs(p[index] - expected.p_value), abs(adjusted - expected.p_holm))
            XCTAssertEqual(p[index], expected.p_value, accuracy: 0.01, "\(name): p")
            XCTAssertEqual(adjusted, expected.p_holm, accuracy: 0.01, "\(name): p-Holm")
        }
        XCTAssertLessThan(largest, 1e-12, "the same swap stream should give the same p-values")
        print("randomization: largest p / p-Holm difference to the NumPy reference \(largest)")
    }

    /// The verdict's seed-and-row interval from the per-seed differences and the bootstrap's SD, against SciPy's
    /// `t.ppf`/`t.sf`: components and df within 1e-9 (relative), interval bounds within 1e-6 pp, p and p-Holm within
    /// 1e-9 — the inputs (the bootstrap SD) agree to ~1e-12, the rest is the Student-t's accuracy. Verdicts and
    /// seeds-to-decide must be equal.
    func testSeedRowIntervalsAndVerdictsMatchReference() throws {
        let fixture = try ReferenceFixture.load()
        let comparisons = try comparisons(fixture)
        let intervals = try PairedBootstrap.intervals(
            comparisons, resamples: fixture.inputs.resamples, seed: fixture.inputs.seed,
            alpha: fixture.inputs.alpha)
        let baseline = try XCTUnwrap(fixture.inputs.systems[fixture.inputs.baseline])
        let threshold = fixture.expected.threshold_pp
        let alpha = fixture.inputs.alpha
        var judged: [SeedRowInterval] = []
        var largest = (component: 0.0, bound: 0.0, p: 0.0)
        for (index, name) in fixture.names.enumerated() {
            let expected = try XCTUnwrap(fixture.expected.variants[name])
            let variant = try XCTUnwrap(fixture.inputs.systems[name])
            var perClass: [Double] = []
            let perSeed = try zip(variant, baseline).map { mine, theirs in
                let pair = try RowPatterns(
                    labels: fixture.inputs.labels, variant: [mine], baseline: [theirs], classes: fixture.inputs.classes)
                return 100 * pair.delta(counts: pair.counts, perClass: &perClass)
            }
            XCTAssertEqual(intervals[index].sdPP, expected.bootstrap_sd_pp, accuracy: 1e-9, "\(name): bootstrap SD")
            let interval = try XCTUnwrap(
                SeedRowInterval(perSeedDeltaPP: perSeed, rowSDPP: intervals[index].sdPP, alpha: alpha))
            judged.append(interval)
            for (mine, theirs) in zip(perSeed, expected.per_seed_delta_pp) {
                XCTAssertEqual(mine, theirs, accuracy: 1e-9, "\(name): per-seed Δ")
            }
            let components = [
                (interval.deltaPP, expected.seed_row_delta_pp), (interval.seedSDPP, expected.seed_sd_pp),
                (interval.seedVariance, expected.seed_variance_pp2), (interval.rowVariance, expected.row_variance_pp2),
                (interval.standardErrorPP, expected.se_pp), (interval.df, expected.df),
            ]
            for (mine, theirs) in components {
                let relative = abs(mine - theirs) / max(1, abs(theirs))
                largest.component = max(largest.component, relative)
                XCTAssertLessThan(relative, 1e-9, "\(name): component \(mine) vs \(theirs)")
            }
            let bounds = [
                (interval.lowPP, expected.seed_row_ci_low_pp), (interval.highPP, expected.seed_row_ci_high_pp),
                (interval.equivalenceLowPP, expected.equivalence_ci_low_pp),
                (interval.equivalenceHighPP, expected.equivalence_ci_high_pp),
            ]
            for (mine, theirs) in bounds {
                largest.bound = max(largest.bound, abs(mine - theirs))
                XCTAssertEqual(mine, theirs, accuracy: 1e-6, "\(name): interval bound")
            }
            largest.p = max(largest.p, abs(interval.pValue - expected.seed_row_p_value))
            XCTAssertEqual(interval.pValue, expected.seed_row_p_value, accuracy: 1e-9, "\(name): p")
            XCTAssertEqual(
                interval.seedsToDecide(thresholdPP: threshold, alpha: alpha), expected.seeds_to_decide_if_undecided,
                "\(name): seeds to decide")
        }
        let holm = HolmBonferroni.adjust(judged.map(\.pValue))
        for (index, name) in fixture.names.enumerated() {
            let expected = try XCTUnwrap(fixture.expected.variants[name])
            let adjusted = try XCTUnwrap(holm[index])
            largest.p = max(largest.p, abs(adjusted - expected.seed_row_p_holm))
            XCTAssertEqual(adjusted, expected.seed_row_p_holm, accuracy: 1e-9, "\(name): p-Holm")
            let verdict = Verdict.judge(interval: judged[index], pHolm: adjusted, thresholdPP: threshold, alpha: alpha)
            XCTAssertEqual(verdict.rawValue, expected.verdict, name)
        }
        print(
            "seed-and-row: largest relative component difference \(largest.component), bound \(largest.bound) pp, p \(largest.p)"
        )
    }
}

extension Python {
    /// Runs a python3 snippet and returns the integers it prints (whitespace-separated); nil without NumPy.
    static func numbers(_ code: String) throws -> [Int]? {
        guard canImport("numpy") else { return nil }
        let result = try run(["-c", code])
        guard result.status == 0 else { return nil }
        return result.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    }
}
