// ApproximateRandomization: the paired approximate-randomization test of Δ macro-F1 (swap the systems row by row).
import AblateSupport

/// Paired approximate randomization (Noreen, *Computer-Intensive Methods for Testing Hypotheses*, 1989): under
/// the null hypothesis the variant's and the baseline's predictions of a row are exchangeable, so each round
/// swaps them on every row independently with probability ½ (all seed pairs of a row together) and recomputes
/// Δ = mean macro-F1 of the variant's seeds − that of the baseline's. The two-sided p-value is
/// `(count + 1) / (rounds + 1)` where `count` is the number of rounds with |Δ| ≥ |Δ observed| (up to 1e-12):
/// the observed assignment counts as one of the equally likely ones, so p is never 0 and the test stays valid
/// with a finite number of rounds.
///
/// Random stream: `numpy.random.default_rng(seed)`; round r swaps row i when the next draw of `integers(0, 2)`
/// is 1 (rows in order, rounds in order, the same swaps for every comparison).
public enum ApproximateRandomization {
    /// The tolerance under which a round's |Δ| counts as reaching the observed one (floating-point noise).
    public static let tolerance = 1e-12

    /// Two-sided p-values for every comparison (all over the same rows).
    public static func pValues(_ comparisons: [RowPatterns], rounds: Int, seed: UInt64) throws -> [Double] {
        guard let rows = comparisons.first?.rowCount else { return [] }
        guard comparisons.allSatisfy({ $0.rowCount == rows }) else {
            throw ReportError("approximate randomization: the comparisons do not share the same validation rows")
        }
        guard rounds >= 1 else { throw ReportError("approximate randomization: rounds must be at least 1") }
        var scratch = comparisons.map { RowPatterns.Scratch($0) }
        var classDelta: [Double] = []
        let observed = comparisons.map { abs($0.delta(counts: $0.counts, perClass: &classDelta)) }
        var reached = [Int](repeating: 0, count: comparisons.count)
        var generator = NumPyGenerator(seed: seed).bitGenerator
        // Row i of comparison v counts into slot offsets[v] + pattern, of the kept or the swapped counts.
        let (offsets, slots, slotOfRow) = RowPatterns.slotTable(comparisons, rows: rows)
        let width = comparisons.count
        // Every row of a slot is either kept or swapped, so a round counts only the swapped rows and takes the
        // kept counts as the slot's total less those.
        var total = [Int](repeating: 0, count: slots)
        for slot in slotOfRow { total[Int(slot)] += 1 }
        var kept = [Int](repeating: 0, count: slots)
        var swapped = [Int](repeating: 0, count: slots)
        for _ in 0..<rounds {
            kept.withUnsafeMutableBufferPointer { kept in
                swapped.withUnsafeMutableBufferPointer { swapped in
                    for i in swapped.indices { swapped[i] = 0 }
                    var stream = generator
                    slotOfRow.withUnsafeBufferPointer { slotOfRow in
                        for row in 0..<rows where stream.lemireBelow(2) == 1 {
                            let base = row * width
                            for v in 0..<width { swapped[Int(slotOfRow[base + v])] += 1 }
                        }
                    }
                    for i in kept.indices { kept[i] = total[i] - swapped[i] }
                    generator = stream
                    for (v, comparison) in comparisons.enumerated() {
                        let range = offsets[v]..<(offsets[v] + comparison.patternCount)
                        let delta = comparison.delta(
                            counts: UnsafeBufferPointer(rebasing: kept[range]),
                            swapped: UnsafeBufferPointer(rebasing: swapped[range]), perClass: &classDelta,
                            scratch: &scratch[v])
                        if abs(delta) >= observed[v] - tolerance { reached[v] += 1 }
                    }
                }
            }
        }
        return reached.map { Double($0 + 1) / Double(rounds + 1) }
    }
}
