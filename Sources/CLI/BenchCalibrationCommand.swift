// BenchCalibrationCommand: `ablate bench calibration`, the verdict rule's false-verdict rates and power on real cells.
import ArgumentParser
import Foundation
import ReportKit

/// Simulates comparisons from a pool of real cells of one configuration (`CalibrationSimulation`) and prints the
/// tables of docs/report-format.md: false verdicts without an effect, `equivalent` and power with one, fixed and
/// adaptive designs. Exits 1 when a false-verdict rate exceeds α by more than its Monte-Carlo error.
struct BenchCalibrationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibration",
        abstract:
            "False-verdict rates and power of the report's verdict rule, simulated from real cells (bench/aa-sweeps.sh makes a pool)."
    )

    @Option(name: .customLong("state"), help: "A state directory whose cells join the pool (repeat the option).")
    var states: [String] = []
    @Option(
        name: .customLong("variant"),
        help: "Pool these variants' cells (repeat; default: each directory's baseline and its replicas).")
    var variants: [String] = []
    @Option(help: "Simulated comparisons per design and effect.") var simulations = 2000
    @Option(help: "Row-bootstrap resamples per judged look.") var resamples = 200
    @Option(name: .customLong("threshold-pp"), help: "The verdict threshold (points).") var thresholdPP = 1.0
    @Option(help: "The verdict level α.") var alpha = 0.05
    @Option(name: .customLong("seed-counts"), help: "Fixed designs to tabulate, seeds per side (comma-separated).")
    var seedCounts = "2,3,5,10"
    @Option(help: "True effects as multiples of the threshold (comma-separated; 0 = none).") var effects = "0,1.5,3"
    @Option(help: "Adaptive designs as initial:max (comma-separated).") var adaptive = "3:10"
    @Option(help: "Seed of the simulation's random streams.") var seed: UInt64 = 0

    func validate() throws {
        guard !states.isEmpty else { throw ValidationError("give at least one --state directory") }
        guard simulations >= 1, resamples >= 2 else {
            throw ValidationError("--simulations must be ≥ 1 and --resamples ≥ 2")
        }
        guard thresholdPP > 0, alpha > 0, alpha < 0.5 else {
            throw ValidationError("--threshold-pp must be > 0 and --alpha in (0, 0.5)")
        }
        _ = try settings()
    }

    func settings() throws -> CalibrationSimulation.Settings {
        var settings = CalibrationSimulation.Settings()
        settings.simulations = simulations
        settings.resamples = resamples
        settings.thresholdPP = thresholdPP
        settings.alpha = alpha
        settings.seed = seed
        let counts = seedCounts.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 2 }) else {
            throw ValidationError("--seed-counts: integers ≥ 2, e.g. 2,3,5,10")
        }
        settings.seedCounts = counts.compactMap { $0 }
        let multiples = effects.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !multiples.isEmpty, multiples.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--effects: numbers ≥ 0, e.g. 0,1.5,3")
        }
        settings.effects = multiples.compactMap { $0 }
        var shapes: [CalibrationSimulation.SequentialDesignShape] = []
        for part in adaptive.split(separator: ",") {
            let numbers = part.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 2, let initial = numbers[0], let maximum = numbers[1], initial >= 2,
                maximum >= initial
            else {
                throw ValidationError("--adaptive: initial:max with 2 ≤ initial ≤ max, e.g. 3:10")
            }
            shapes.append(.init(initial: initial, maximum: maximum))
        }
        settings.adaptive = shapes
        return settings
    }

    func run() throws {
        let settings = try settings()
        let pool: CalibrationPool
        do {
            pool = try CalibrationPool.load(stateDirectories: states, variants: variants.isEmpty ? nil : Set(variants))
        } catch {
            throw RunFailure(message: "\(error)")
        }
        print(
            "pool: \(pool.cells.count) cells of one configuration, \(pool.labels.count) validation rows, \(pool.classes) classes"
        )
        let start = Date()
        let rates: [CalibrationSimulation.Rates]
        do {
            rates = try CalibrationSimulation.run(pool: pool, settings: settings) { print("  " + $0) }
        } catch {
            throw RunFailure(message: "\(error)")
        }
        print(
            String(
                format: "simulated in %.0f s (%d simulations per design and effect, %d row resamples per look)\n",
                Date().timeIntervalSince(start), settings.simulations, settings.resamples))
        print(CalibrationTables.markdown(rates, settings: settings))
        if !CalibrationTables.holdsLevel(rates, settings: settings) {
            print("A false-verdict rate exceeds α by more than its Monte-Carlo error.")
            throw ExitCode(1)
        }
    }
}

/// The calibration tables as Markdown.
enum CalibrationTables {
    /// Whether every false-verdict rate without an effect is ≤ α + its 95 % Monte-Carlo error at α.
    static func holdsLevel(_ rates: [CalibrationSimulation.Rates], settings: CalibrationSimulation.Settings) -> Bool {
        rates.filter { $0.scenario.effectMultiple == 0 }.allSatisfy {
            $0.rate($0.falseVerdicts) <= settings.alpha
                + CalibrationSimulation.monteCarloError(settings.alpha, simulations: $0.simulations)
        }
    }

    static func markdown(_ rates: [CalibrationSimulation.Rates], settings: CalibrationSimulation.Settings) -> String {
        func percent(_ value: Double) -> String { String(format: "%.1f %%", 100 * value) }
        func find(_ effect: Double, fixed: Int?, adaptive: CalibrationSimulation.SequentialDesignShape?)
            -> CalibrationSimulation.Rates?
        {
            rates.first {
                $0.scenario.effectMultiple == effect && $0.scenario.fixedSeeds == fixed
                    && $0.scenario.adaptive == adaptive
            }
        }
        let powered = settings.effects.filter { $0 > 0 }
        let bound =
            settings.alpha + CalibrationSimulation.monteCarloError(settings.alpha, simulations: settings.simulations)
        var out =
            "Threshold \(settings.thresholdPP) pp, α \(settings.alpha); \(settings.simulations) simulated comparisons per row; "
        out +=
            "a false-verdict rate holds the level when it is ≤ α + its 95 % Monte-Carlo error at α (\(percent(bound))).\n\n"
        var header = [
            "Design (seeds per side)", "False better/worse (no effect)", "Equivalent (no effect)",
            "Undecided (no effect)",
        ]
        for effect in powered {
            let pp = rates.first { $0.scenario.effectMultiple == effect }?.effectPP ?? effect * settings.thresholdPP
            header.append(String(format: "Power at %.2f pp (%.1f×)", pp, effect))
        }
        out += "| " + header.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: header.count) + "\n"
        for n in settings.seedCounts {
            guard
                let null = find(0, fixed: n, adaptive: nil)
                    ?? find(settings.effects.first ?? 0, fixed: n, adaptive: nil)
            else { continue }
            var cells = ["fixed \(n)"]
            if null.scenario.effectMultiple == 0 {
                let error = CalibrationSimulation.monteCarloError(
                    null.rate(null.falseVerdicts), simulations: null.simulations)
                cells += [
                    percent(null.rate(null.falseVerdicts)) + " ± " + percent(error),
                    percent(null.rate(null.equivalent)),
                    percent(null.rate(null.undecided)),
                ]
            } else {
                cells += ["—", "—", "—"]
            }
            for effect in powered {
                cells.append(find(effect, fixed: n, adaptive: nil).map { percent($0.rate($0.correct)) } ?? "—")
            }
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        for shape in settings.adaptive {
            var cells = ["adaptive \(shape.initial)–\(shape.maximum)"]
            if let null = find(0, fixed: nil, adaptive: shape) {
                let error = CalibrationSimulation.monteCarloError(
                    null.rate(null.falseVerdicts), simulations: null.simulations)
                cells += [
                    percent(null.rate(null.falseVerdicts)) + " ± " + percent(error),
                    percent(null.rate(null.equivalent)),
                    percent(null.rate(null.undecided)) + String(format: " (mean seeds %.2f)", null.meanSeeds),
                ]
            } else {
                cells += ["—", "—", "—"]
            }
            for effect in powered {
                guard let entry = find(effect, fixed: nil, adaptive: shape) else {
                    cells.append("—")
                    continue
                }
                let power = entry.rate(entry.correct)
                let equal = CalibrationSimulation.equalPowerSeeds(rates, effectMultiple: effect, power: power)
                cells.append(
                    percent(power)
                        + String(
                            format: " (mean seeds %.2f; fixed design of equal power: %@)", entry.meanSeeds,
                            equal.map { String(format: "%.1f", $0) } ?? "none up to \(shape.maximum)"))
            }
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        let wrong = rates.filter { $0.scenario.effectMultiple > 0 }.map(\.falseVerdicts).reduce(0, +)
        out +=
            "\nWith a true effect, wrong verdicts (the wrong direction, or equivalent): \(wrong) in \(rates.filter { $0.scenario.effectMultiple > 0 }.count * settings.simulations).\n"
        return out
    }
}
