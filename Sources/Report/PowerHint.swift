// PowerHint: roughly how many seeds per variant would resolve a threshold-sized difference, from the seed spread.
import Foundation

/// A sample-size hint from the seed-to-seed spread of the best-epoch macro-F1.
///
/// With per-seed standard deviations `s_v` (variant) and `s_b` (baseline) in points, the pooled
/// `s² = (s_v² + s_b²) / 2` and the two-sided normal approximation for two independent means,
/// `n = ⌈2 · (z₁₋α/₂ + z_power)² · s² / δ²⌉` seeds per variant detect a true difference of δ (the threshold)
/// with probability `power` (0.8) at level α. It ignores the pairing of seeds and of rows, so it errs on the
/// side of more seeds; at least 2 (a spread needs two).
public enum PowerHint {
    /// Seeds per variant, or nil without two seeds on each side or a positive threshold.
    public static func seedsNeeded(
        variantSD: Double?, baselineSD: Double?, thresholdPP: Double, alpha: Double,
        power: Double = 0.8
    ) -> Int? {
        guard let variantSD, let baselineSD, thresholdPP > 0, alpha > 0, alpha < 1, power > 0, power < 1 else {
            return nil
        }
        let pooled = (variantSD * variantSD + baselineSD * baselineSD) / 2
        let z = normalQuantile(1 - alpha / 2) + normalQuantile(power)
        let n = 2 * z * z * pooled / (thresholdPP * thresholdPP)
        guard n.isFinite else { return nil }
        return max(2, Int(n.rounded(.up)))
    }

    /// The standard normal quantile, by bisection on `Φ(x) = erfc(−x/√2)/2` (accurate to ~1e-12).
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p <= 0 ? -.infinity : .infinity }
        var low = -40.0
        var high = 40.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if erfc(-middle / 2.0.squareRoot()) / 2 < p { low = middle } else { high = middle }
            if high - low < 1e-13 { break }
        }
        return (low + high) / 2
    }
}
