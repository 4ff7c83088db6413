// PairedBootstrap: percentile confidence intervals of Δ macro-F1 by resampling validation rows, paired across systems.
import AblateSupport

/// A confidence interval of a variant's Δ macro-F1 to the baseline, in percentage points, overall and per class.
public struct DeltaInterval: Sendable, Equatable, Codable {
    public var lowPP: Double
    public var highPP: Double
    public var perClassLowPP: [Double]
    public var perClassHighPP: [Double]
    /// Standard deviation (ddof 1) of the resampled Δ: the row component's standard error (NaN when not computed).
    public var sdPP: Double

    public init(lowPP: Double, highPP: Double, perClassLowPP: [Double], perClassHighPP: [Double], sdPP: Double = .nan) {
        self.lowPP = lowPP
        self.highPP = highPP
        self.perClassLowPP = perClassLowPP
        self.perClassHighPP = perClassHighPP
        self.sdPP = sdPP
    }
}

/// The paired bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13 percentile
/// intervals): each resample draws `n` validation rows with replacement, the **same** rows for the variant's
/// and the baseline's cells; Δ = mean over the variant's seeds of their macro-F1 on those rows minus the same
/// mean for the baseline's seeds. The interval is the (α/2, 1 − α/2) percentiles of Δ over the resamples
/// (linear interpolation between order statistics, NumPy's default `percentile`), and the replicates' standard
/// deviation (ddof 1) is the row component of `SeedRowInterval`. It treats each trained model as fixed: it
/// captures the validation set's sampling error only, not the seed's.
///
/// Random stream: `numpy.random.default_rng(seed)`; resample r takes the next `n` draws of
/// `integers(0, n)` (Lemire's method on 32-bit outputs). Every comparison of a sweep uses the same resampled
/// rows, so a NumPy script with the same seed reproduces the intervals exactly.
public enum PairedBootstrap {
    /// Intervals for every comparison (all over the same `n` rows), at confidence `1 − alpha`.
    public static func intervals(_ comparisons: [RowPatterns], resamples: Int, seed: UInt64, alpha: Double = 0.05)
        throws
        -> [DeltaInterval]
    {
        guard let rows = comparisons.first?.rowCount else { return [] }
        guard comparisons.allSatisfy({ $0.rowCount == rows }) else {
            throw ReportError("paired bootstrap: the comparisons do not share the same validation rows")
        }
        guard rows > 1, rows <= Int(UInt32.max) else { throw ReportError("paired bootstrap: \(rows) validation rows") }
        guard resamples >= 1 else { throw ReportError("paired bootstrap: resamples must be at least 1") }
        // Row i of comparison v counts into slot offsets[v] + pattern.
        let (offsets, slots, slotOfRow) = RowPatterns.slotTable(comparisons, rows: rows)
        let width = comparisons.count
        var deltas = [[Double]](repeating: [], count: width)
        var perClass = [[[Double]]](repeating: [], count: width)
        for (v, comparison) in comparisons.enumerated() {
            deltas[v].reserveCapacity(resamples)
            perClass[v] = [[Double]](repeating: [], count: comparison.classes)
        }
        var scratch = comparisons.map { RowPatterns.Scratch($0) }
        var generator = NumPyGenerator(seed: seed).bitGenerator
        var counts = [Int](repeating: 0, count: slots)
        var classDelta: [Double] = []
        let bound = UInt32(rows)
        for _ in 0..<resamples {
            counts.withUnsafeMutableBufferPointer { counts in
                for i in counts.indices { counts[i] = 0 }
                var stream = generator
                slotOfRow.withUnsafeBufferPointer { slotOfRow in
                    for _ in 0..<rows {
                        let base = Int(stream.lemireBelow(bound)) * width
                        for v in 0..<width { counts[Int(slotOfRow[base + v])] += 1 }
                    }
                }
                generator = stream
                for (v, comparison) in comparisons.enumerated() {
                    let own = UnsafeBufferPointer(rebasing: counts[offsets[v]..<(offsets[v] + comparison.patternCount)])
                    let delta = comparison.delta(counts: own, swapped: nil, perClass: &classDelta, scratch: &scratch[v])
                    deltas[v].append(100 * delta)
                    for c in 0..<comparison.classes { perClass[v][c].append(100 * classDelta[c]) }
                }
            }
        }
        let low = alpha / 2
        let high = 1 - alpha / 2
        return (0..<width).map { v in
            let sorted = deltas[v].sorted()
            let classes = perClass[v].map { $0.sorted() }
            return DeltaInterval(
                lowPP: percentile(sorted, low), highPP: percentile(sorted, high),
                perClassLowPP: classes.map { percentile($0, low) },
                perClassHighPP: classes.map { percentile($0, high) },
                sdPP: standardDeviation(deltas[v]))
        }
    }

    /// Sample standard deviation (ddof 1, two-pass); NaN under 2 values.
    public static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return .nan }
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }

    /// The `q`-quantile (0…1) of ascending `sorted` values with linear interpolation between order statistics
    /// (NumPy's `percentile(..., method="linear")`); NaN for no values.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard let first = sorted.first else { return .nan }
        guard sorted.count > 1 else { return first }
        let position = q * Double(sorted.count - 1)
        let below = min(sorted.count - 2, max(0, Int(position.rounded(.down))))
        let fraction = position - Double(below)
        return sorted[below] + fraction * (sorted[below + 1] - sorted[below])
    }
}
