// MeanRowTests: the paired row-level tests of a mean-of-rows metric (a command's per-row `score`), by the same streams.
import AblateSupport

/// The paired bootstrap and approximate randomization for a metric that is the mean of a per-row `score` over the
/// validation rows (`predictions.h5` `score`, docs/bring-your-own-trainer.md). With n rows and, per row i,
/// rᵢ = the mean over the seed pairs of (variant score − baseline score), Δ = Σ rᵢ / n; rows pair by index.
///
/// - Bootstrap: a resample draws n rows with replacement (the same rows for every comparison) and Δ* is the mean
///   of their rᵢ; the interval is the (α/2, 1 − α/2) percentiles (`PairedBootstrap.percentile`), and the
///   replicates' SD (ddof 1) is the row component of `SeedRowInterval`. Stream: `numpy.random.default_rng(seed)`,
///   resample r the next n draws of `integers(0, n)`, as `PairedBootstrap`.
/// - Randomization: swapping the two sides of row i (all seed pairs together) turns rᵢ into −rᵢ; a round swaps each
///   row with probability ½ (the next `integers(0, 2)` is 1) and p = (c + 1) / (R + 1), c counting rounds with
///   |Δ| ≥ |Δ observed| − 10⁻¹², as `ApproximateRandomization`.
///
/// Differences are multiplied by `scale` (the metric's unit factor) before they are reported.
public enum MeanRowTests {
    /// Per-row differences of one comparison: `variant[j][i] − baseline[j][i]` averaged over the seed pairs j.
    public static func differences(variant: [[Double]], baseline: [[Double]]) throws -> [Double] {
        guard let rows = variant.first?.count, !variant.isEmpty, variant.count == baseline.count else {
            throw ReportError("a paired comparison needs the same positive number of cells on both sides")
        }
        guard (variant + baseline).allSatisfy({ $0.count == rows }) else {
            throw ReportError("the cells' score datasets have different row counts")
        }
        var out = [Double](repeating: 0, count: rows)
        for (mine, theirs) in zip(variant, baseline) {
            for i in 0..<rows { out[i] += mine[i] - theirs[i] }
        }
        let pairs = Double(variant.count)
        return out.map { $0 / pairs }
    }

    /// Bootstrap intervals of every comparison (all over the same rows), at confidence 1 − `alpha`.
    public static func intervals(
        _ comparisons: [[Double]], resamples: Int, seed: UInt64, alpha: Double, scale: Double
    ) throws -> [DeltaInterval] {
        let rows = try checkedRows(comparisons)
        guard rows > 0 else { return [] }
        guard resamples >= 1 else { throw ReportError("paired bootstrap: resamples must be at least 1") }
        var generator = NumPyGenerator(seed: seed).bitGenerator
        var deltas = [[Double]](repeating: [], count: comparisons.count)
        var drawn = [Int](repeating: 0, count: rows)
        let bound = UInt32(rows)
        for _ in 0..<resamples {
            for i in 0..<rows { drawn[i] = Int(generator.lemireBelow(bound)) }
            for (v, differences) in comparisons.enumerated() {
                var sum = 0.0
                for i in drawn { sum += differences[i] }
                deltas[v].append(scale * sum / Double(rows))
            }
        }
        return deltas.map { values in
            let sorted = values.sorted()
            return DeltaInterval(
                lowPP: PairedBootstrap.percentile(sorted, alpha / 2),
                highPP: PairedBootstrap.percentile(sorted, 1 - alpha / 2), perClassLowPP: [], perClassHighPP: [],
                sdPP: PairedBootstrap.standardDeviation(values))
        }
    }

    /// Two-sided approximate-randomization p-values of every comparison (all over the same rows).
    public static func pValues(_ comparisons: [[Double]], rounds: Int, seed: UInt64) throws -> [Double] {
        let rows = try checkedRows(comparisons)
        guard rows > 0 else { return [] }
        guard rounds >= 1 else { throw ReportError("approximate randomization: rounds must be at least 1") }
        let observed = comparisons.map { abs($0.reduce(0, +) / Double(rows)) }
        var reached = [Int](repeating: 0, count: comparisons.count)
        var generator = NumPyGenerator(seed: seed).bitGenerator
        var swapped = [Bool](repeating: false, count: rows)
        for _ in 0..<rounds {
            for i in 0..<rows { swapped[i] = generator.lemireBelow(2) == 1 }
            for (v, differences) in comparisons.enumerated() {
                var sum = 0.0
                for i in 0..<rows { sum += swapped[i] ? -differences[i] : differences[i] }
                if abs(sum / Double(rows)) >= observed[v] - ApproximateRandomization.tolerance { reached[v] += 1 }
            }
        }
        return reached.map { Double($0 + 1) / Double(rounds + 1) }
    }

    /// The common row count of `comparisons` (0 for none); throws when they differ or exceed the stream's bound.
    private static func checkedRows(_ comparisons: [[Double]]) throws -> Int {
        guard let rows = comparisons.first?.count else { return 0 }
        guard comparisons.allSatisfy({ $0.count == rows }) else {
            throw ReportError("paired tests: the comparisons do not share the same validation rows")
        }
        guard rows > 1, rows <= Int(UInt32.max) else { throw ReportError("paired tests: \(rows) validation rows") }
        return rows
    }
}
