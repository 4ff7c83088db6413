// DatasetSummary: counts per split, class and stage, for `ablate data inspect`.
import RunSpec

/// Counts of a dataset's rows per split, partition id and Stage-2 class.
public struct DatasetSummary: Sendable, Equatable {
    public struct SplitCounts: Sendable, Equatable {
        public var rows: Int
        /// Rows per partition id 0–9.
        public var partitions: [Int]
        /// Rows per Stage-2 class (SPLIT, RECT, AB).
        public var stage2: [Int]
    }

    public var splits: [(name: String, counts: SplitCounts)]

    public static func == (a: DatasetSummary, b: DatasetSummary) -> Bool {
        a.splits.map(\.name) == b.splits.map(\.name) && a.splits.map(\.counts) == b.splits.map(\.counts)
    }

    /// Counts the labels of each split.
    public init(labelsBySplit: [(String, [UInt8])]) {
        splits = labelsBySplit.map { name, labels in
            var partitions = [Int](repeating: 0, count: Partition.allCases.count)
            var stage2 = [Int](repeating: 0, count: Stage.stage2.classCount)
            for label in labels {
                if Int(label) < partitions.count { partitions[Int(label)] += 1 }
                if let s2 = Stage.stage2.label(forPartitionID: label) { stage2[s2] += 1 }
            }
            return (name, SplitCounts(rows: labels.count, partitions: partitions, stage2: stage2))
        }
    }

    /// A plain-text table: one row per split, one column per partition id with counts and shares.
    public func table() -> String {
        func pct(_ n: Int, _ total: Int) -> String {
            total == 0 ? "-" : String(Int((Double(n) * 1000 / Double(total)).rounded())).withDecimalPoint()
        }
        let partitions = Partition.allCases
        var lines: [String] = []
        let header = ["split", "rows"] + partitions.map(\.description)
        lines.append(header.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        for (name, counts) in splits {
            var cells = [name, String(counts.rows)]
            cells += partitions.map { "\(counts.partitions[Int($0.rawValue)])" }
            lines.append(cells.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
            var shares = ["", "%"]
            shares += partitions.map { pct(counts.partitions[Int($0.rawValue)], counts.rows) }
            lines.append(shares.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
        }
        lines.append("")
        for (name, counts) in splits {
            let total = counts.stage2.reduce(0, +)
            let parts = zip(Stage.stage2.classNames, counts.stage2).map { "\($0) \($1) (\(pct($1, total)) %)" }
            lines.append("stage 2 \(name): \(total) rows: " + parts.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// "583" → "58.3" (a count of tenths shown with one decimal).
    fileprivate func withDecimalPoint() -> String {
        let padded = count < 2 ? String(repeating: "0", count: 2 - count) + self : self
        return padded.dropLast() + "." + padded.suffix(1)
    }
}
