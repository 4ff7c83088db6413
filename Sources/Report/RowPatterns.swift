// RowPatterns: a paired comparison's validation rows compressed to distinct (label, every cell's prediction) patterns.

/// The rows of one paired comparison — a variant's cells and the baseline's cells, paired by seed — grouped by
/// their pattern (true class, predicted class of each cell). Resampling or swapping rows only changes how many
/// rows of each pattern there are, and each cell's confusion matrix follows from those counts, so the statistics
/// cost O(patterns × cells) per resample instead of O(rows × cells).
public struct RowPatterns: Sendable, Hashable {
    /// Number of classes.
    public let classes: Int
    /// Number of seed pairs (cells per side).
    public let pairs: Int
    /// Pattern index of each row.
    public let rowPattern: [Int32]
    /// Per pattern: the true class, then the variant cells' predictions, then the baseline cells'.
    let codes: [Int32]
    /// How many rows have each pattern (the original sample).
    public let counts: [Int]
    /// What `delta` recomputes: macro-F1 (the default) or accuracy.
    public let statistic: RowStatistic

    /// Number of distinct patterns.
    public var patternCount: Int { counts.count }
    /// Number of rows.
    public var rowCount: Int { rowPattern.count }

    /// Where each row of each comparison counts when several comparisons share their rows: comparison `v`'s
    /// patterns take slots `offsets[v] ..< offsets[v] + patternCount`, and `slotOfRow[row * count + v]` is the slot of
    /// that row's pattern (rows × comparisons, row-major).
    static func slotTable(_ comparisons: [RowPatterns], rows: Int) -> (offsets: [Int], slots: Int, slotOfRow: [Int32]) {
        var offsets: [Int] = []
        var slots = 0
        for comparison in comparisons {
            offsets.append(slots)
            slots += comparison.patternCount
        }
        let width = comparisons.count
        var slotOfRow = [Int32](repeating: 0, count: rows * width)
        for (v, comparison) in comparisons.enumerated() {
            for row in 0..<rows { slotOfRow[row * width + v] = Int32(offsets[v]) + comparison.rowPattern[row] }
        }
        return (offsets, slots, slotOfRow)
    }

    /// Groups rows. `variant[j]` and `baseline[j]` are the per-row predicted classes of the j-th seed pair; every
    /// array has one entry per row of `labels`, and every class lies in `0..<classes`.
    public init(
        labels: [Int], variant: [[Int]], baseline: [[Int]], classes: Int, statistic: RowStatistic = .macroF1
    ) throws {
        guard classes >= 2 else { throw ReportError("a comparison needs at least 2 classes, got \(classes)") }
        guard !variant.isEmpty, variant.count == baseline.count else {
            throw ReportError(
                "a paired comparison needs the same positive number of cells on both sides (got \(variant.count) and \(baseline.count))"
            )
        }
        for cell in variant + baseline where cell.count != labels.count {
            throw ReportError("predictions have \(cell.count) rows but the labels have \(labels.count)")
        }
        let cells = variant + baseline
        let width = 1 + cells.count
        var index: [[Int32]: Int32] = [:]
        var codes: [Int32] = []
        var counts: [Int] = []
        var rowPattern = [Int32](repeating: 0, count: labels.count)
        var key = [Int32](repeating: 0, count: width)
        for row in labels.indices {
            key[0] = Int32(labels[row])
            for (j, cell) in cells.enumerated() { key[1 + j] = Int32(cell[row]) }
            guard key.allSatisfy({ $0 >= 0 && Int($0) < classes }) else {
                throw ReportError("row \(row): a class outside 0..<\(classes)")
            }
            if let found = index[key] {
                rowPattern[row] = found
                counts[Int(found)] += 1
            } else {
                let id = Int32(counts.count)
                index[key] = id
                codes += key
                counts.append(1)
                rowPattern[row] = id
            }
        }
        self.classes = classes
        self.pairs = variant.count
        self.rowPattern = rowPattern
        self.codes = codes
        self.counts = counts
        self.statistic = statistic
    }

    /// Mean macro-F1 (or accuracy, by `statistic`) of the variant's cells minus that of the baseline's (as
    /// fractions), and the difference of per-class F1, for rows counted by `counts` (each pattern's rows as they are) and `swapped` (each pattern's
    /// rows with the two sides' predictions exchanged; nil for none). F1 is scikit-learn's with
    /// `zero_division=0`, macro-averaged over all classes.
    public func delta(counts: [Int], swapped: [Int]? = nil, perClass: inout [Double]) -> Double {
        var scratch = Scratch(self)
        return counts.withUnsafeBufferPointer { counts in
            guard let swapped else {
                return delta(counts: counts, swapped: nil, perClass: &perClass, scratch: &scratch)
            }
            return swapped.withUnsafeBufferPointer { swapped in
                delta(counts: counts, swapped: swapped, perClass: &perClass, scratch: &scratch)
            }
        }
    }

    /// Per-pattern confusion-matrix slots and reusable buffers for `delta`.
    struct Scratch {
        /// `own[p * cells + j]`: the slot `j·K² + label·K + prediction` that a row of pattern p adds to for cell j.
        var own: [Int32]
        /// The same with the partner cell's prediction (a swapped row).
        var partner: [Int32]
        /// Confusion matrices of every cell, flattened.
        var confusion: [Int]

        init(_ patterns: RowPatterns) {
            let k = patterns.classes
            let cells = 2 * patterns.pairs
            let width = 1 + cells
            own = []
            partner = []
            own.reserveCapacity(patterns.patternCount * cells)
            partner.reserveCapacity(patterns.patternCount * cells)
            for p in 0..<patterns.patternCount {
                let label = Int(patterns.codes[p * width])
                for j in 0..<cells {
                    let other = j < patterns.pairs ? j + patterns.pairs : j - patterns.pairs
                    own.append(Int32(j * k * k + label * k + Int(patterns.codes[p * width + 1 + j])))
                    partner.append(Int32(j * k * k + label * k + Int(patterns.codes[p * width + 1 + other])))
                }
            }
            confusion = [Int](repeating: 0, count: cells * k * k)
        }
    }

    func delta(
        counts: UnsafeBufferPointer<Int>, swapped: UnsafeBufferPointer<Int>?, perClass: inout [Double],
        scratch: inout Scratch
    ) -> Double {
        let k = classes
        let cells = 2 * pairs
        let patterns = self.counts.count
        scratch.confusion.withUnsafeMutableBufferPointer { confusion in
            for i in confusion.indices { confusion[i] = 0 }
            scratch.own.withUnsafeBufferPointer { own in
                for p in 0..<patterns {
                    let kept = counts[p]
                    if kept == 0 { continue }
                    let base = p * cells
                    for j in 0..<cells { confusion[Int(own[base + j])] += kept }
                }
            }
            guard let swapped else { return }
            scratch.partner.withUnsafeBufferPointer { partner in
                for p in 0..<patterns {
                    let exchanged = swapped[p]
                    if exchanged == 0 { continue }
                    let base = p * cells
                    for j in 0..<cells { confusion[Int(partner[base + j])] += exchanged }
                }
            }
        }
        if perClass.count != k { perClass = [Double](repeating: 0, count: k) }
        for c in 0..<k { perClass[c] = 0 }
        var variantSum = 0.0
        var baselineSum = 0.0
        let weight = 1 / Double(pairs)
        for j in 0..<cells {
            let sign = j < pairs ? weight : -weight
            let matrix = j * k * k
            var macro = 0.0
            var correct = 0
            var total = 0
            for c in 0..<k {
                let tp = scratch.confusion[matrix + c * k + c]
                if statistic == .accuracy {
                    correct += tp
                    for other in 0..<k { total += scratch.confusion[matrix + c * k + other] }
                }
                guard tp > 0 else { continue }
                var predicted = 0
                var actual = 0
                for other in 0..<k {
                    predicted += scratch.confusion[matrix + other * k + c]
                    actual += scratch.confusion[matrix + c * k + other]
                }
                let f1 = 2 * Double(tp) / Double(predicted + actual)
                macro += f1
                perClass[c] += sign * f1
            }
            let value =
                statistic == .accuracy ? (total > 0 ? Double(correct) / Double(total) : 0) : macro / Double(k)
            if j < pairs { variantSum += value } else { baselineSum += value }
        }
        return (variantSum - baselineSum) * weight
    }
}
