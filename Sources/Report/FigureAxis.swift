// FigureAxis: an axis of a report figure — its range, "nice" ticks (1, 2 or 5 × 10^k, or decades on a log axis) and labels.
import Foundation

/// One axis: the drawn range, the tick values inside it and how a value maps to a fraction of the axis length.
///
/// A linear axis is widened to whole multiples of its tick step, so the first and last ticks sit at its ends and every
/// value it was made to cover lies between two labelled ticks. A log axis spans whole decades.
public struct FigureAxis: Sendable, Equatable {
    /// The lowest and highest value drawn (on a log axis the values themselves, not their logarithms).
    public var low: Double
    public var high: Double
    /// Tick values, ascending, every one within `low...high`.
    public var ticks: [Double]
    /// The distance between neighbouring ticks of a linear axis (0 for a log axis).
    public var step: Double
    /// Whether values are placed by their base-10 logarithm.
    public var isLog: Bool

    /// A linear axis covering every finite value of `values` with about `count` ticks at a step of 1, 2 or 5 × 10^k
    /// (at least `minimumStep`: 1 for epochs). Without a finite value it spans 0…1; a single value v spans 0…v
    /// (and a little beyond).
    public init(covering values: [Double], count: Int = 5, minimumStep: Double = 0) {
        let finite = values.filter(\.isFinite)
        var lowest = finite.min() ?? 0
        var highest = finite.max() ?? 1
        if highest - lowest <= 1e-12 * max(abs(highest), 1) {
            // One value: the axis runs from 0 to a little beyond it (±1 around 0), so a constant reads as one.
            if lowest > 0 {
                (lowest, highest) = (0, 1.1 * highest)
            } else if lowest < 0 {
                (lowest, highest) = (1.1 * lowest, 0)
            } else {
                (lowest, highest) = (-1, 1)
            }
        }
        let step = Self.niceStep(max((highest - lowest) / Double(max(count, 1)), minimumStep))
        let first = (lowest / step).rounded(.down)
        let last = (highest / step).rounded(.up)
        low = first * step
        high = last * step
        ticks = stride(from: first, through: last, by: 1).map { Self.clean($0 * step, step: step) }
        self.step = step
        isLog = false
    }

    /// A linear axis symmetric about zero that covers every finite value of `values` (at least ±`minimum`).
    public init(symmetricCovering values: [Double], minimum: Double = 1, count: Int = 6) {
        let reach = max(values.filter(\.isFinite).map(abs).max() ?? 0, minimum)
        self.init(covering: [-reach, reach], count: count)
    }

    /// A base-10 log axis over whole decades covering every finite positive value of `values`.
    public init(logCovering values: [Double]) {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        let lowest = (log10(positive.min() ?? 1)).rounded(.down)
        var highest = (log10(positive.max() ?? 10)).rounded(.up)
        if highest <= lowest { highest = lowest + 1 }
        low = pow(10, lowest)
        high = pow(10, highest)
        let decades = stride(from: lowest, through: highest, by: 1).map { pow(10, $0) }
        // Under three decades the decades alone are too few ticks: 2 and 5 of each decade are labelled too.
        ticks =
            highest - lowest < 3
            ? decades.flatMap { [$0, 2 * $0, 5 * $0] }.filter { $0 <= pow(10, highest) * (1 + 1e-9) } : decades
        step = 0
        isLog = true
    }

    /// Whether `values` (finite, positive) span a wide enough range (over 20×) to be drawn on a log axis.
    public static func wantsLog(_ values: [Double]) -> Bool {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let lowest = positive.min(), let highest = positive.max(), positive.count == values.count else {
            return false
        }
        return highest / lowest > 20
    }

    /// The smallest of 1, 2, 5 × 10^k (integer k) at least `raw`.
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= raw * (1 - 1e-9) { return factor * magnitude }
        return 10 * magnitude
    }

    /// `value`'s position along the axis: 0 at `low`, 1 at `high`; nil for a non-finite value (or ≤ 0 on a log axis).
    public func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if isLog {
            guard value > 0 else { return nil }
            return (log10(value) - log10(low)) / max(log10(high) - log10(low), 1e-12)
        }
        return (value - low) / max(high - low, 1e-12)
    }

    /// The label of a tick: as many decimals as the step needs (a log axis: plain numbers from 0.001 to 10⁴,
    /// otherwise `1e-5`).
    public func label(_ value: Double) -> String {
        if isLog {
            let magnitude = abs(log10(value))
            if magnitude <= 4 { return Self.trimmed(String(format: "%.4f", value)) }
            return String(format: "%.0e", value).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(
                of: "e+0", with: "e")
        }
        let decimals = max(0, Int(-log10(step).rounded(.down)))
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0
            ? String(text.dropFirst())
            : text.replacingOccurrences(
                of: "-", with: "−")
    }

    private static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var out = text
        while out.hasSuffix("0") { out.removeLast() }
        if out.hasSuffix(".") { out.removeLast() }
        return out
    }

    /// `value` with the floating-point noise of `k × step` removed (0.30000000000000004 → 0.3).
    private static func clean(_ value: Double, step: Double) -> Double {
        let decimals = max(0, -Int(log10(step).rounded(.down))) + 1
        let factor = pow(10, Double(min(decimals, 15)))
        return (value * factor).rounded() / factor
    }
}
