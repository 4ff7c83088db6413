// SweepMetric: the metric a sweep is judged on (key `metric:`) — its name, goal, unit and threshold — and its parsing.
import Foundation
import RunSpec
import Yams

/// Whether a higher or a lower value of the metric is better.
public enum MetricGoal: String, Sendable, Equatable, Codable {
    case max
    case min
}

/// The metric the report picks each cell's best epoch by and judges the variants on (`metric:`,
/// docs/sweep-format.md). An analysis choice: it does not enter cell ids, so changing it re-judges the same cells.
public struct SweepMetric: Sendable, Equatable, Codable {
    /// The per-epoch key: `val_macro_f1`, or any `[a-z][a-z0-9_]*` of at most 64 characters.
    public var name: String
    public var goal: MetricGoal
    /// The label of differences (`pp`, `%`, `dB`, …).
    public var unit: String
    /// The smallest difference that counts, in `unit`; nil: the sweep's `significance.threshold_pp`.
    public var threshold: Double?

    public init(
        name: String = MetricCatalog.defaultName, goal: MetricGoal = .max, unit: String = "pp",
        threshold: Double? = nil
    ) {
        self.name = name
        self.goal = goal
        self.unit = unit
        self.threshold = threshold
    }

    /// Whether name, goal and unit are those of a sweep without `metric:`, the threshold aside (the report then
    /// reads as it always has).
    public var isDefault: Bool { name == MetricCatalog.defaultName && goal == .max && unit == "pp" }

    /// Whether each cell's best epoch is the one its summary names (the highest `val_macro_f1`); otherwise the
    /// report picks it from the cell's per-epoch records.
    public var picksSummaryEpoch: Bool { name == MetricCatalog.defaultName && goal == .max }

    /// "higher is better" or "lower is better".
    public var goalText: String { goal == .max ? "higher is better" : "lower is better" }

    /// The factor from the metric's values to its differences' unit: 100 for a fraction (`val_macro_f1`,
    /// `val_accuracy`, …, `MetricCatalog.fractions`) in `pp` or `%`, else 1 (the metric's own units).
    public var scale: Double { (unit == "pp" || unit == "%") && MetricCatalog.fractions.contains(name) ? 100 : 1 }

    /// +1 when higher is better, −1 when lower is: a difference times this is an improvement.
    public var direction: Double { goal == .max ? 1 : -1 }

    /// Whether `candidate` is better than `incumbent` by the goal (strictly).
    public func isBetter(_ candidate: Double, than incumbent: Double) -> Bool {
        goal == .max ? candidate > incumbent : candidate < incumbent
    }

    /// The longest name and unit.
    public static let maximumNameLength = 64
    public static let maximumUnitLength = 16

    /// Whether `name` is a metric name: `[a-z][a-z0-9_]*`, at most 64 characters.
    public static func isValidName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= maximumNameLength, ("a"..."z").contains(first) else {
            return false
        }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Whether `unit` is a unit label: 1 to 16 printable characters (no control or format character, no line
    /// break, no `|`, which would split a Markdown table cell).
    public static func isValidUnit(_ unit: String) -> Bool {
        guard !unit.isEmpty, unit.count <= maximumUnitLength else { return false }
        let refused: Set<Unicode.GeneralCategory> = [
            .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse,
        ]
        return unit.unicodeScalars.allSatisfy { !refused.contains($0.properties.generalCategory) && $0 != "|" }
    }
}

extension Sweep {
    /// The threshold the verdicts use, in the metric's unit: `metric.threshold`, else `significance.threshold_pp`.
    public var metricThreshold: Double { metric.threshold ?? significance.thresholdPP }
}

extension SweepParser {
    /// Reads `metric:` — a name, or `{name, goal, unit, threshold}` — and checks that a sweep with a native variant
    /// names a metric the native trainer records (`MetricCatalog.native`).
    static func readMetric(_ entry: SweepEntry, into parts: inout SweepParts, _ reader: inout SweepReader) {
        var metric = SweepMetric()
        var nameEntry = entry
        if entry.value.mapping == nil {
            guard let name = reader.string(entry) else { return }
            metric.name = name
        } else {
            guard let entries = reader.entries(of: entry.value, path: entry.path) else { return }
            let known = ["name", "goal", "unit", "threshold"]
            for item in entries {
                switch item.key {
                case "name":
                    guard let name = reader.string(item) else { break }
                    metric.name = name
                    nameEntry = item
                case "goal":
                    guard let goal = reader.string(item) else { break }
                    if let value = MetricGoal(rawValue: goal) {
                        metric.goal = value
                    } else {
                        reader.report(item, "'\(goal)' is not a goal (expected max or min)")
                    }
                case "unit":
                    guard let unit = reader.string(item) else { break }
                    if SweepMetric.isValidUnit(unit) {
                        metric.unit = unit
                    } else {
                        reader.report(
                            item,
                            "'\(unit)' is not a unit (1 to \(SweepMetric.maximumUnitLength) printable characters, no '|')"
                        )
                    }
                case "threshold":
                    guard let value = reader.number(item) else { break }
                    if value > 0 {
                        metric.threshold = value
                    } else {
                        reader.report(item, "\(value) must be greater than 0")
                    }
                default:
                    reader.reportUnknown(item, known: known, what: "expected \(known.joined(separator: ", "))")
                }
            }
        }
        guard SweepMetric.isValidName(metric.name) else {
            reader.report(
                nameEntry,
                "'\(metric.name)' is not a metric name (a lower-case letter, then lower-case letters, digits and '_'; at most \(SweepMetric.maximumNameLength))"
            )
            return
        }
        let natives = MetricCatalog.nativeNames
        if let native = parts.variants?.first(where: { $0.command == nil }), !natives.contains(metric.name) {
            reader.report(
                nameEntry,
                "'\(metric.name)' is not recorded by the native trainer, which variant \(native.name) runs (it records \(natives.joined(separator: ", ")))"
            )
        }
        parts.metric = metric
    }
}
