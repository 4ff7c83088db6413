// CalibrationReferenceTests: the calibration simulation's effect rows, judged looks and rates against scripts/calibration_reference.py.
import Foundation
import ReportKit
import XCTest

/// Compares `CalibrationPool.effectRows`, `CalibrationSimulation.judgedLooks` and `CalibrationSimulation.run` with the
/// NumPy/SciPy reference on its committed fixtures (`Fixtures/calibration-pool.json`: 24 cells × 600 rows, 3 classes;
/// `Fixtures/calibration-expected.json`). Both sides draw the same NumPy `default_rng` streams (the validation rows by
/// `integers`, the cells by `permutation`, the row bootstrap by `integers`), so everything agrees to floating-point
/// rounding: discrete results (prefix lengths, seeds, verdicts, counts) exactly, numbers within 1e-9. Each test
/// reports its largest differences. The fixture records the interval's degrees-of-freedom rule it was made with
/// (`df_rule`); when `SeedRowInterval`'s rule changes, rerun the script with the matching `--df`.
final class CalibrationReferenceTests: XCTestCase {
    struct PoolFixture: Decodable {
        var classes: Int
        var labels: [Int]
        var cells: [[Int]]
    }

    struct Expected: Decodable {
        struct Settings: Decodable {
            var threshold_pp: Double
            var alpha: Double
            var resamples: Int
            var seed: UInt64
            var seed_counts: [Int]
            var effects: [Double]
            var adaptive: [[Int]]
            var simulations: Int
        }

        struct Effect: Decodable {
            var multiple: Double
            var target_pp: Double
            var seed: UInt64
            var rows: [Int]
            var effect_pp: Double
        }

        struct Scenario: Decodable {
            var index: Int
            var effect_multiple: Double
            var fixed_seeds: Int?
            var adaptive: [Int]?
        }

        struct Look: Decodable {
            var seeds: Int
            var per_seed_delta_pp: [Double]
            var row_sd_pp: Double
            var level: Double
            var p_value: Double
            var verdict: String
        }

        struct Comparison: Decodable {
            var scenario: Int
            var simulation: Int
            var stream_seed: UInt64
            var sign: Int
            var looks: [Look]
        }

        struct Rates: Decodable {
            var scenario: Int
            var effect_pp: Double
            var simulations: Int
            var better: Int
            var worse: Int
            var equivalent: Int
            var undecided: Int
            var correct: Int
            var false_verdicts: Int
            var mean_seeds: Double
        }

        var settings: Settings
        /// The seed-and-row interval's degrees of freedom the fixture was made with: "seeds" (n − 1) or "welch".
        var df_rule: String
        var effects: [Effect]
        var scenarios: [Scenario]
        var looks: [Comparison]
        var rates: [Rates]
    }

    private struct Fixture {
        var pool: CalibrationPool
        var expected: Expected
        var settings: CalibrationSimulation.Settings
    }

    private func load() throws -> Fixture {
        func data(_ name: String) throws -> Data {
            let url = try XCTUnwrap(
                Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"),
                "missing fixture \(name).json")
            return try Data(contentsOf: url)
        }
        let inputs = try JSONDecoder().decode(PoolFixture.self, from: data("calibration-pool"))
        let expected = try JSONDecoder().decode(Expected.self, from: data("calibration-expected"))
        let pool = try CalibrationPool(
            labels: inputs.labels, classes: inputs.classes, cells: inputs.cells,
            names: inputs.cells.indices.map { "cell \($0)" })
        var settings = CalibrationSimulation.Settings()
        settings.thresholdPP = expected.settings.threshold_pp
        settings.alpha = expected.settings.alpha
        settings.resamples = expected.settings.resamples
        settings.seed = expected.settings.seed
        settings.seedCounts = expected.settings.seed_counts
        settings.effects = expected.settings.effects
        settings.adaptive = try expected.settings.adaptive.map {
            (shape: [Int]) throws -> CalibrationSimulation.SequentialDesignShape in
            guard shape.count == 2 else {
                throw ReportFixtureError("an adaptive design is not [initial, maximum]: \(shape)")
            }
            return CalibrationSimulation.SequentialDesignShape(initial: shape[0], maximum: shape[1])
        }
        settings.simulations = expected.settings.simulations
        return Fixture(pool: pool, expected: expected, settings: settings)
    }

    private struct ReportFixtureError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The effect rows the fixture's effects use, by multiple (the reference's; `testEffectRowsMatchReference`
    /// checks ReportKit finds the same).
    private func effectRows(_ fixture: Fixture) -> [Double: [Int]] {
        Dictionary(fixture.expected.effects.map { ($0.multiple, $0.rows) }, uniquingKeysWith: { first, _ in first })
    }

    func testScenariosAndStreamSeedsMatchReference() throws {
        let fixture = try load()
        let scenarios = CalibrationSimulation.scenarios(fixture.settings)
        XCTAssertEqual(scenarios.count, fixture.expected.scenarios.count, "scenario count")
        for (scenario, expected) in zip(scenarios, fixture.expected.scenarios) {
            let label = "scenario \(expected.index)"
            XCTAssertEqual(scenario.effectMultiple, expected.effect_multiple, label)
            XCTAssertEqual(scenario.fixedSeeds, expected.fixed_seeds, label)
            XCTAssertEqual(scenario.adaptive.map { [$0.initial, $0.maximum] }, expected.adaptive, label)
        }
        for comparison in fixture.expected.looks {
            XCTAssertEqual(
                CalibrationSimulation.streamSeed(
                    fixture.settings.seed, scenario: comparison.scenario, simulation: comparison.simulation),
                comparison.stream_seed,
                "scenario \(comparison.scenario) simulation \(comparison.simulation): stream seed")
        }
    }

    func testEffectRowsMatchReference() throws {
        let fixture = try load()
        XCTAssertFalse(fixture.expected.effects.isEmpty, "the fixture lists no effect")
        var largest = 0.0
        for expected in fixture.expected.effects {
            let seed = fixture.settings.seed &+ 0xE77EC7
            XCTAssertEqual(seed, expected.seed, "the effect rows' permutation seed")
            let target = expected.multiple * fixture.settings.thresholdPP
            XCTAssertEqual(target, expected.target_pp, accuracy: 1e-12)
            let found = try XCTUnwrap(
                fixture.pool.effectRows(targetPP: target, seed: seed), "effect \(expected.multiple): no effect rows")
            largest = max(largest, abs(found.effectPP - expected.effect_pp))
            XCTAssertEqual(found.rows.count, expected.rows.count, "effect \(expected.multiple): prefix length")
            XCTAssertEqual(
                found.rows, expected.rows, "effect \(expected.multiple): the rows (the permutation's prefix)")
            XCTAssertEqual(
                found.effectPP, expected.effect_pp, accuracy: 1e-9,
                "effect \(expected.multiple): achieved effect \(found.effectPP) pp vs \(expected.effect_pp) pp")
        }
        print("calibration effect rows: largest effect difference to the NumPy reference \(largest) pp")
    }

    /// Every look of the listed simulated comparisons (every scenario, simulations 0…15): seeds, per-seed Δ, the row
    /// bootstrap's SD, the look's level, p and the verdict.
    func testJudgedLooksMatchReference() throws {
        let fixture = try load()
        let scenarios = CalibrationSimulation.scenarios(fixture.settings)
        let effects = effectRows(fixture)
        XCTAssertFalse(fixture.expected.looks.isEmpty, "the fixture lists no look")
        var largest = (delta: 0.0, sdRelative: 0.0, p: 0.0)
        var problems: [String] = []
        var looksCompared = 0
        for comparison in fixture.expected.looks {
            let label = "scenario \(comparison.scenario) simulation \(comparison.simulation)"
            guard scenarios.indices.contains(comparison.scenario) else {
                problems.append("\(label): no such scenario")
                continue
            }
            let scenario = scenarios[comparison.scenario]
            var rows: [Int]?
            if scenario.effectMultiple > 0 {
                rows = effects[scenario.effectMultiple]
                if rows == nil {
                    problems.append("\(label): the fixture has no effect rows for \(scenario.effectMultiple)")
                }
            }
            let looks = try CalibrationSimulation.judgedLooks(
                pool: fixture.pool, scenario: scenario, seed: comparison.stream_seed, effectRows: rows,
                sign: comparison.sign, settings: fixture.settings)
            if looks.count != comparison.looks.count {
                let mine = looks.map { $0.seeds }
                let theirs = comparison.looks.map { $0.seeds }
                problems.append("\(label): looks at seeds \(mine), the reference's at \(theirs)")
            }
            for (look, expected) in zip(looks, comparison.looks) {
                looksCompared += 1
                let at = "\(label) look \(expected.seeds)"
                if look.seeds != expected.seeds { problems.append("\(at): seeds \(look.seeds)") }
                if look.perSeedDeltaPP.count != expected.per_seed_delta_pp.count {
                    problems.append(
                        "\(at): \(look.perSeedDeltaPP.count) per-seed Δ, the reference \(expected.per_seed_delta_pp.count)"
                    )
                }
                for (mine, theirs) in zip(look.perSeedDeltaPP, expected.per_seed_delta_pp) {
                    let difference = abs(mine - theirs)
                    largest.delta = max(largest.delta, difference.isNaN ? .infinity : difference)
                    if !(difference <= 1e-9) { problems.append("\(at): per-seed Δ \(mine) vs \(theirs) pp") }
                }
                let sdRelative =
                    abs(look.rowSDPP - expected.row_sd_pp) / max(abs(expected.row_sd_pp), .leastNormalMagnitude)
                largest.sdRelative = max(largest.sdRelative, sdRelative.isNaN ? .infinity : sdRelative)
                if !(sdRelative <= 1e-9) {
                    problems.append("\(at): row SD \(look.rowSDPP) vs \(expected.row_sd_pp) pp")
                }
                if look.level != expected.level { problems.append("\(at): level \(look.level) vs \(expected.level)") }
                let pDifference = abs(look.pValue - expected.p_value)
                largest.p = max(largest.p, pDifference.isNaN ? .infinity : pDifference)
                if !(pDifference <= 1e-9) { problems.append("\(at): p \(look.pValue) vs \(expected.p_value)") }
                if look.verdict.rawValue != expected.verdict {
                    problems.append("\(at): verdict \(look.verdict.rawValue) vs \(expected.verdict)")
                }
            }
        }
        let summary =
            "largest differences: per-seed Δ \(largest.delta) pp, row SD \(largest.sdRelative) (relative), p \(largest.p); "
            + "fixture df rule \(fixture.expected.df_rule)"
        XCTAssertTrue(
            problems.isEmpty,
            "\(problems.count) disagreements with the NumPy reference (\(summary)); first: "
                + problems.prefix(12).joined(separator: "; "))
        print("calibration looks: \(fixture.expected.looks.count) comparisons, \(looksCompared) looks; \(summary)")
    }

    /// The rates of every scenario over the fixture's simulations (40): verdict counts, correct and false verdicts,
    /// mean seeds.
    func testRatesMatchReference() throws {
        let fixture = try load()
        let rates = try CalibrationSimulation.run(pool: fixture.pool, settings: fixture.settings)
        XCTAssertEqual(rates.count, fixture.expected.rates.count, "scenario count")
        var largest = (meanSeeds: 0.0, effect: 0.0)
        var problems: [String] = []
        for (index, expected) in fixture.expected.rates.enumerated() {
            guard rates.indices.contains(index) else { break }
            let mine = rates[index]
            let label = "scenario \(expected.scenario) (\(CalibrationSimulation.describe(mine)))"
            let counts = [
                ("simulations", mine.simulations, expected.simulations), ("better", mine.better, expected.better),
                ("worse", mine.worse, expected.worse), ("equivalent", mine.equivalent, expected.equivalent),
                ("undecided", mine.undecided, expected.undecided), ("correct", mine.correct, expected.correct),
                ("false", mine.falseVerdicts, expected.false_verdicts),
            ]
            for (name, value, reference) in counts where value != reference {
                problems.append("\(label): \(name) \(value) vs \(reference)")
            }
            let seeds = abs(mine.meanSeeds - expected.mean_seeds)
            largest.meanSeeds = max(largest.meanSeeds, seeds.isNaN ? .infinity : seeds)
            if !(seeds <= 1e-12) { problems.append("\(label): mean seeds \(mine.meanSeeds) vs \(expected.mean_seeds)") }
            let effect = abs(mine.effectPP - expected.effect_pp)
            largest.effect = max(largest.effect, effect.isNaN ? .infinity : effect)
            if !(effect <= 1e-9) { problems.append("\(label): effect \(mine.effectPP) vs \(expected.effect_pp) pp") }
        }
        let summary =
            "largest differences: mean seeds \(largest.meanSeeds), effect \(largest.effect) pp; fixture df rule \(fixture.expected.df_rule)"
        XCTAssertTrue(
            problems.isEmpty,
            "\(problems.count) disagreements with the NumPy reference (\(summary)); first: "
                + problems.prefix(12).joined(separator: "; "))
        print("calibration rates: \(rates.count) scenarios × \(fixture.settings.simulations) simulations; \(summary)")
    }
}
