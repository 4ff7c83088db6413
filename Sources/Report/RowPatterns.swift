// RowPatterns: a paired comparison's validation rows compressed to distinct (label, every cell's prediction) patterns.

/// The rows of one paired comparison — a variant's cells and the baseline's cells, paired by seed — grouped by
/// their pattern (true class, predicted class of each cell). Resampling or swapping rows only changes how many
/// rows of each pattern there are, and each cell's confusion matrix follows from those counts, so the statistics
/// cost O(patterns × cells) per resample instead of O(rows × cells).
public struct RowPatterns: Sendable {
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

    /// Number of distinct patterns.
    public var patternCount: Int { counts.count }
    /// Number of rows.
    public var rowCount: Int { rowPattern.count }

    /// Groups rows. `variant[j]` and `baseline[j]` are the per-row predicted classes of the j-th seed pair; every
    /// array has one entry per row of `labels`, and every class lies in `0..<classes`.
    public init(labels: [Int], variant: [[Int]], baseline: [[Int]], classes: Int) throws {
        guard classes >= 2 else { throw ReportError("a comparison needs at least 2 classes, got \(classes)") }
        guard !variant.isEmpty, variant.count == baseline.count else {
            throw ReportError("a paired comparison needs the same positive number of cells on both sides (got \(variant.count) and \(baseline.count))")
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
    }

    /// Mean macro-F1 of the variant's cells minus that of the baseline's (as fractions), and the same difference
    /// per class, for rows counted by `counts` (each pattern's rows as they are) and `swapped` (each pattern's
    /// rows with the two sides' predictions exchanged; nil for none). F1 is scikit-learn's with
    /// `zero_division=0`, macro-averaged over all classes.
    public func delta(counts: [Int], swapped: [Int]? = nil, perClass: inout [Double]) -> Double {
        var scratch = Scratch(classes: classes, cells: 2 * pairs)
        return delta(counts: counts, swapped: swapped, perClass: &perClass, scratch: &scratch)
    }

    /// Reusable buffers for `delta`.
    struct Scratch {
        var truePositives: [Int]
        var predicted: [Int]
        var actual: [Int]
        init(classes: Int, cells: Int) {
            truePositives = [Int](repeating: 0, count: classes * cells)
            predicted = [Int](repeating: 0, count: classes * cells)
            actual = [Int](repeating: 0, count: classes)
        }
    }

    func delta(counts: [Int], swapped: [Int]?, perClass: inout [Double], scratch: inout Scratch) -> Double {
        let k = classes
        let cells = 2 * pairs
        let width = 1 + cells
        for i in scratch.truePositives.indices {
            scratch.truePositives[i] = 0
            scratch.predicted[i] = 0
        }
        for i in 0..<k { scratch.actual[i] = 0 }
        codes.withUnsafeBufferPointer { codes in
            scratch.truePositives.withUnsafeMutableBufferPointer { tp in
                scratch.predicted.withUnsafeMutableBufferPointer { predicted in
                    for p in 0..<self.counts.count {
                        let kept = counts[p]
                        let exchanged = swapped?[p] ?? 0
                        let total = kept + exchanged
                        if total == 0 { continue }
                        let base = p * width
                        let label = Int(codes[base])
                        scratch.actual[label] += total
                        for j in 0..<cells {
                            // A swapped row gives cell j the prediction of its partner on the other side.
                            let partner = j < pairs ? j + pairs : j - pairs
                            let own = Int(codes[base + 1 + j])
                            let other = Int(codes[base + 1 + partner])
                            if kept > 0 {
                                predicted[j * k + own] += kept
                                if own == label { tp[j * k + label] += kept }
                            }
                            if exchanged > 0 {
                                predicted[j * k + other] += exchanged
                                if other == label { tp[j * k + label] += exchanged }
                            }
                        }
                    }
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
            var macro = 0.0
            for c in 0..<k {
                let tp = scratch.truePositives[j * k + c]
                let f1 = tp == 0 ? 0 : 2 * Double(tp) / Double(scratch.predicted[j * k + c] + scratch.actual[c])
                macro += f1
                perClass[c] += sign * f1
            }
            if j < pairs { variantSum += macro / Double(k) } else { baselineSum += macro / Double(k) }
        }
        return (variantSum - baselineSum) * weight
    }
}
