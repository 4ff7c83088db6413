// CalibrationSimulation: the verdict rule's error rates and power, measured on comparisons drawn from a pool of real cells.
import AblateSupport
import Foundation
import Synchronization

/// Measures how often the report's verdict rule (`SeedRowInterval` + `Verdict.judge`, the same code the report
/// runs) is wrong, by simulating comparisons whose truth is known.
///
/// **Generative model.** One simulated comparison draws its validation set — N rows with replacement from the
/// pool's N rows (both sources of row-level variation: which rows, and the row bootstrap inside the rule) — and
/// 2M distinct cells of the pool without replacement: the first M are the variant's seeds, the next M the
/// baseline's, paired in order. All cells were trained with the same settings, so without an effect the true
/// difference is exactly zero. A true effect of e points is added by `CalibrationPool.effectRows`: the same fixed
/// rows are corrected in every cell of one side (the variant's for +e, the baseline's for −e; simulations
/// alternate the sign, even ones +). Pairing by seed brings no correlation here (the pool's cells are independent
/// seeds), so the rule's power on real paired sweeps, where a variant and the baseline share a seed's
/// initialisation, is if anything higher.
///
/// **Designs.** Fixed: n seeds per side, judged once at α. Adaptive (`SequentialDesign`): judged at n₀, n₀ + 1,
/// … M seeds per side at each look's level, stopping at the first `better`, `worse` or `equivalent`.
///
/// **Random streams** (reproduced by scripts/calibration_reference.py): scenario s (in the order of
/// `scenarios`), simulation j uses `numpy.random.default_rng(seed + s·2²⁴ + j)`: first `integers(0, N, size=N)`
/// (the validation rows), then `permutation(P)` (the cells); the row bootstrap of a look with n seeds per side is
/// `PairedBootstrap` with seed `seed + s·2²⁴ + j + n·2⁴⁰` (all mod 2⁶⁴). The effect rows use
/// `default_rng(seed + 0xE77EC7).permutation(N)`.
public enum CalibrationSimulation {
    /// What to simulate.
    public struct Settings: Sendable, Equatable {
        public var thresholdPP = 1.0
        public var alpha = 0.05
        /// Row-bootstrap resamples per judged look (the report's default is 10,000; the SD it estimates needs far
        /// fewer: its relative Monte-Carlo error is about 1/√(2·resamples)).
        public var resamples = 200
        public var simulations = 2000
        /// Seeds per side of the fixed designs.
        public var seedCounts = [2, 3, 5, 10]
        /// True effects as multiples of the threshold (0 = no effect).
        public var effects = [0.0, 1.5, 3.0]
        /// Adaptive designs (initial seeds, maximum seeds).
        public var adaptive: [SequentialDesignShape] = [SequentialDesignShape(initial: 3, maximum: 10)]
        public var seed: UInt64 = 0

        public init() {}
    }

    /// An adaptive design's seed counts.
    public struct SequentialDesignShape: Sendable, Equatable, Codable {
        public var initial: Int
        public var maximum: Int

        public init(initial: Int, maximum: Int) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    /// One configuration of the simulation: a design under a true effect.
    public struct Scenario: Sendable, Equatable {
        /// The effect as a multiple of the threshold.
        public var effectMultiple: Double
        /// Fixed seeds per side, or nil for `adaptive`.
        public var fixedSeeds: Int?
        public var adaptive: SequentialDesignShape?

        public init(effectMultiple: Double, fixedSeeds: Int?, adaptive: SequentialDesignShape?) {
            self.effectMultiple = effectMultiple
            self.fixedSeeds = fixedSeeds
            self.adaptive = adaptive
        }

        /// The most seeds per side it may use.
        public var maximumSeeds: Int { fixedSeeds ?? adaptive?.maximum ?? 0 }
    }

    /// What one simulated comparison ended with.
    public struct Outcome: Sendable, Equatable {
        public var verdict: Verdict
        /// Seeds per side at the deciding (or last) look.
        public var seeds: Int
        /// +1 or −1: the sign of the true effect (+1 without one).
        public var sign: Int
    }

    /// The rates of one scenario.
    public struct Rates: Sendable, Equatable {
        public var scenario: Scenario
        /// The true effect the pool gives (points, magnitude), 0 without one.
        public var effectPP: Double
        public var simulations: Int
        public var better: Int
        public var worse: Int
        public var equivalent: Int
        public var undecided: Int
        /// `better` on +e and `worse` on −e (0 without an effect).
        public var correct: Int
        /// `better` or `worse` without an effect; with one, the wrong direction, or `equivalent` when the effect exceeds
        /// the threshold (multiple > 1).
        public var falseVerdicts: Int
        public var meanSeeds: Double

        public init(
            scenario: Scenario, effectPP: Double, simulations: Int, better: Int, worse: Int, equivalent: Int,
            undecided: Int, correct: Int,
            falseVerdicts: Int, meanSeeds: Double
        ) {
            self.scenario = scenario
            self.effectPP = effectPP
            self.simulations = simulations
            self.better = better
            self.worse = worse
            self.equivalent = equivalent
            self.undecided = undecided
            self.correct = correct
            self.falseVerdicts = falseVerdicts
            self.meanSeeds = meanSeeds
        }

        public func rate(_ count: Int) -> Double { simulations > 0 ? Double(count) / Double(simulations) : .nan }
    }

    /// Every scenario in stream order: per effect (in `settings.effects` order), the fixed designs of 2 … the
    /// largest seed count (all of them: the adaptive designs are compared with the fixed design of equal power),
    /// then the adaptive designs.
    public static func scenarios(_ settings: Settings) -> [Scenario] {
        let largest = max(settings.seedCounts.max() ?? 2, settings.adaptive.map(\.maximum).max() ?? 2)
        var out: [Scenario] = []
        for effect in settings.effects {
            for n in 2...max(2, largest) { out.append(Scenario(effectMultiple: effect, fixedSeeds: n, adaptive: nil)) }
            for shape in settings.adaptive {
                out.append(Scenario(effectMultiple: effect, fixedSeeds: nil, adaptive: shape))
            }
        }
        return out
    }

    /// Runs every scenario (simulations spread over the machine's cores; the results do not depend on how).
    /// `progress` gets one line per finished scenario.
    public static func run(pool: CalibrationPool, settings: Settings, progress: @Sendable (String) -> Void = { _ in })
        throws -> [Rates]
    {
        let all = scenarios(settings)
        let needed = all.map(\.maximumSeeds).max() ?? 0
        guard 2 * needed <= pool.cells.count else {
            throw ReportError(
                "calibration: \(needed) seeds per side need \(2 * needed) distinct cells; the pool has \(pool.cells.count)"
            )
        }
        var effectRows: [Double: (rows: [Int], effectPP: Double)] = [:]
        for effect in Set(settings.effects) where effect > 0 {
            guard let rows = pool.effectRows(targetPP: effect * settings.thresholdPP, seed: settings.seed &+ 0xE77EC7)
            else {
                throw ReportError("calibration: the pool cannot give an effect of \(effect * settings.thresholdPP) pp")
            }
            effectRows[effect] = rows
        }
        var results: [Rates] = []
        for (index, scenario) in all.enumerated() {
            let effect = effectRows[scenario.effectMultiple]
            let outcomes = try simulate(
                pool: pool, scenario: scenario, index: index, effectRows: effect?.rows, settings: settings)
            let rates = tally(outcomes, scenario: scenario, effectPP: effect?.effectPP ?? 0)
            results.append(rates)
            progress(describe(rates))
        }
        return results
    }

    /// `settings.simulations` comparisons of one scenario.
    static func simulate(pool: CalibrationPool, scenario: Scenario, index: Int, effectRows: [Int]?, settings: Settings)
        throws -> [Outcome]
    {
        let count = settings.simulations
        let slots = Mutex<[Result<Outcome, any Error>?]>(Array(repeating: nil, count: count))
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for j in stride(from: worker, to: count, by: workers) {
                let result = Result {
                    try comparison(
                        pool: pool, scenario: scenario, seed: streamSeed(settings.seed, scenario: index, simulation: j),
                        effectRows: effectRows, sign: j % 2 == 0 ? 1 : -1, settings: settings)
                }
                slots.withLock { $0[j] = result }
            }
        }
        return try slots.withLock { $0 }.map { slot in
            guard let slot else { throw ReportError("calibration: a simulation did not run") }
            return try slot.get()
        }
    }

    /// seed + s·2²⁴ + j (mod 2⁶⁴).
    public static func streamSeed(_ seed: UInt64, scenario: Int, simulation: Int) -> UInt64 {
        seed &+ (UInt64(scenario) << 24) &+ UInt64(simulation)
    }

    /// One simulated comparison, judged as the report judges (one variant: p-Holm = p).
    public static func comparison(
        pool: CalibrationPool, scenario: Scenario, seed: UInt64, effectRows: [Int]?, sign: Int,
        settings: Settings
    ) throws -> Outcome {
        let looks = try judgedLooks(
            pool: pool, scenario: scenario, seed: seed, effectRows: effectRows, sign: sign, settings: settings)
        guard let last = looks.last else { throw ReportError("calibration: no look") }
        return Outcome(verdict: last.verdict, seeds: last.seeds, sign: effectRows == nil ? 1 : sign)
    }

    /// One judged look of a simulated comparison.
    public struct Look: Sendable, Equatable {
        public var seeds: Int
        public var perSeedDeltaPP: [Double]
        public var rowSDPP: Double
        public var level: Double
        public var pValue: Double
        public var verdict: Verdict
    }

    /// The looks of one simulated comparison up to the deciding one (one look for a fixed design).
    public static func judgedLooks(
        pool: CalibrationPool, scenario: Scenario, seed: UInt64, effectRows: [Int]?, sign: Int,
        settings: Settings
    ) throws -> [Look] {
        let rows = pool.labels.count
        let maximum = scenario.maximumSeeds
        var generator = NumPyGenerator(seed: seed)
        var drawn = [Int](repeating: 0, count: rows)
        for i in 0..<rows { drawn[i] = Int(generator.bitGenerator.lemireBelow(UInt32(rows))) }
        let order = generator.permutation(pool.cells.count)
        let labels = drawn.map { pool.labels[$0] }
        func side(_ range: Range<Int>, improved: Bool) -> [[Int]] {
            range.map { position in
                let cell = pool.cells[order[position]]
                let predicted = improved ? pool.corrected(cell, rows: effectRows ?? []) : cell
                return drawn.map { predicted[$0] }
            }
        }
        let variant = side(0..<maximum, improved: effectRows != nil && sign > 0)
        let baseline = side(maximum..<(2 * maximum), improved: effectRows != nil && sign < 0)
        let all = Array(0..<rows)
        let variantF1 = variant.map {
            CalibrationPool.macroF1(labels: labels, predicted: $0, rows: all, classes: pool.classes)
        }
        let baselineF1 = baseline.map {
            CalibrationPool.macroF1(labels: labels, predicted: $0, rows: all, classes: pool.classes)
        }

        let design = scenario.adaptive.map {
            SequentialDesign(initialSeeds: $0.initial, maximumSeeds: $0.maximum, alpha: settings.alpha)
        }
        let counts = design.map { Array($0.initialSeeds...$0.maximumSeeds) } ?? [maximum]
        var looks: [Look] = []
        for n in counts {
            let deltas = (0..<n).map { 100 * (variantF1[$0] - baselineF1[$0]) }
            let patterns = try RowPatterns(
                labels: labels, variant: Array(variant.prefix(n)), baseline: Array(baseline.prefix(n)),
                classes: pool.classes)
            let bootstrap = try PairedBootstrap.intervals(
                [patterns], resamples: settings.resamples, seed: seed &+ (UInt64(n) << 40),
                alpha: settings.alpha)
            let rowSD = bootstrap.first?.sdPP ?? .nan
            let level = design?.level(atSeeds: n) ?? settings.alpha
            let interval = SeedRowInterval(perSeedDeltaPP: deltas, rowSDPP: rowSD, alpha: level)
            let verdict = Verdict.judge(
                interval: interval, pHolm: interval?.pValue, thresholdPP: settings.thresholdPP, alpha: level)
            looks.append(
                Look(
                    seeds: n, perSeedDeltaPP: deltas, rowSDPP: rowSD, level: level, pValue: interval?.pValue ?? .nan,
                    verdict: verdict))
            if verdict == .better || verdict == .worse || verdict == .equivalent { break }
        }
        return looks
    }

    /// Counts the outcomes of one scenario.
    static func tally(_ outcomes: [Outcome], scenario: Scenario, effectPP: Double) -> Rates {
        var rates = Rates(
            scenario: scenario, effectPP: effectPP, simulations: outcomes.count, better: 0, worse: 0, equivalent: 0,
            undecided: 0,
            correct: 0, falseVerdicts: 0, meanSeeds: 0)
        var seeds = 0
        for outcome in outcomes {
            seeds += outcome.seeds
            switch outcome.verdict {
            case .better: rates.better += 1
            case .worse: rates.worse += 1
            case .equivalent: rates.equivalent += 1
            case .undecided, .untested: rates.undecided += 1
            }
            let directional = outcome.verdict == .better || outcome.verdict == .worse
            if scenario.effectMultiple == 0 {
                if directional { rates.falseVerdicts += 1 }
            } else if directional {
                let right = (outcome.verdict == .better) == (outcome.sign > 0)
                if right { rates.correct += 1 } else { rates.falseVerdicts += 1 }
            } else if outcome.verdict == .equivalent, scenario.effectMultiple > 1 {
                rates.falseVerdicts += 1
            }
        }
        rates.meanSeeds = outcomes.isEmpty ? .nan : Double(seeds) / Double(outcomes.count)
        return rates
    }

    /// The fixed-design seeds per side whose power equals `power` for `effectMultiple`, linearly interpolated between
    /// the fixed designs' measured powers; nil when no fixed design reaches it.
    public static func equalPowerSeeds(_ rates: [Rates], effectMultiple: Double, power: Double) -> Double? {
        let fixed = rates.filter { $0.scenario.effectMultiple == effectMultiple && $0.scenario.fixedSeeds != nil }
            .sorted { ($0.scenario.fixedSeeds ?? 0) < ($1.scenario.fixedSeeds ?? 0) }
        var previous: (seeds: Double, power: Double)?
        for entry in fixed {
            let seeds = Double(entry.scenario.fixedSeeds ?? 0)
            let measured = entry.rate(entry.correct)
            if measured >= power {
                guard let previous, measured > previous.power else { return seeds }
                return previous.seeds + (power - previous.power) / (measured - previous.power)
                    * (seeds - previous.seeds)
            }
            previous = (seeds, measured)
        }
        return nil
    }

    /// The half-width of a 95 % Monte-Carlo interval of a rate `p` measured in `simulations` trials.
    public static func monteCarloError(_ p: Double, simulations: Int) -> Double {
        1.96 * (p * (1 - p) / Double(max(1, simulations))).squareRoot()
    }

    /// One line for progress output.
    public static func describe(_ rates: Rates) -> String {
        let design =
            rates.scenario.fixedSeeds.map { "fixed \($0)" } ?? rates.scenario.adaptive.map {
                "adaptive \($0.initial)–\($0.maximum)"
            } ?? "?"
        let effect = rates.scenario.effectMultiple == 0 ? "no effect" : String(format: "effect %.2f pp", rates.effectPP)
        return String(
            format:
                "%@, %@: better %.3f worse %.3f equivalent %.3f undecided %.3f correct %.3f false %.3f, mean seeds %.2f",
            design, effect, rates.rate(rates.better), rates.rate(rates.worse), rates.rate(rates.equivalent),
            rates.rate(rates.undecided), rates.rate(rates.correct), rates.rate(rates.falseVerdicts), rates.meanSeeds)
    }
}
