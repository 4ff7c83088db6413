// ReportFormatting: number formatting shared by the report renderers.
import Foundation

/// Number formatting of the text renderers (Markdown, HTML).
enum ReportFormatting {
    /// `value` with `digits` decimals; an em dash for nil or non-finite values.
    static func number(_ value: Double?, _ digits: Int = 2) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%.\(digits)f", value)
    }

    /// A threshold: with one decimal for a fraction's points (`1.0`), else in the shortest form `%g` gives (`0.5`,
    /// `0.0025`).
    static func threshold(_ value: Double, scale: Double) -> String {
        scale == 100 ? number(value, 1) : (value.isFinite ? String(format: "%g", value) : "—")
    }

    /// A signed number (`+1.23`).
    static func signed(_ value: Double?, _ digits: Int = 2) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%+.\(digits)f", value)
    }

    /// `mean ± sd` (just the mean with one seed).
    static func spread(_ spread: Spread?, _ digits: Int = 2) -> String {
        guard let spread else { return "—" }
        guard let sd = spread.sd else { return number(spread.mean, digits) }
        return number(spread.mean, digits) + " ± " + number(sd, digits)
    }

    /// A p-value: 4 decimals, or `< 0.0001`.
    static func pValue(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        return value < 0.0001 ? "< 0.0001" : String(format: "%.4f", value)
    }

    /// `[low, high]` in points.
    static func interval(_ interval: DeltaInterval?) -> String {
        guard let interval else { return "—" }
        return "[" + signed(interval.lowPP) + ", " + signed(interval.highPP) + "]"
    }

    /// `[low, high]` of a seed-and-row interval in points (in the metric's unit), with `digits` decimals.
    static func interval(_ interval: SeedRowInterval?, _ digits: Int = 2) -> String {
        guard let interval else { return "—" }
        return "[" + signed(interval.lowPP, digits) + ", " + signed(interval.highPP, digits) + "]"
    }

    /// The confidence level as a percentage (`95`).
    static func level(_ alpha: Double) -> String {
        let percent = 100 * (1 - alpha)
        return percent == percent.rounded() ? String(Int(percent)) : String(format: "%.1f", percent)
    }
}
