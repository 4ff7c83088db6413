// ComparisonTable: the end-of-sweep table — each variant's best-epoch validation macro-F1 over its seeds vs the baseline.
import Foundation
import WorkerKit

/// A first comparison (the full significance report is `ablate report`): per variant, the seeds done, the mean
/// and standard deviation of the best epoch's validation macro-F1, and Δ to the baseline's mean in points.
/// Every number of a row comes from the same (best) epoch of each run.
public struct ComparisonTable: Sendable {
    public struct Row: Sendable, Equatable {
        public var variant: String
        public var seedsDone: Int
        public var seedsFailed: Int
        public var meanF1: Double?
        public var sdF1: Double?
        public var deltaPP: Double?
        public var meanBestEpoch: Double?
    }

    public var baseline: String
    public var rows: [Row]

    /// Builds the table from the ledger's cells (stage-2/3 cells only; the stage-1 job is a dependency).
    public init(cells: [CellRecord], baseline: String, variants: [String]) {
        self.baseline = baseline
        var rows: [Row] = []
        for variant in variants {
            let mine = cells.filter { $0.variant == variant }
            let summaries = mine.compactMap { cell in cell.summaryJSON.flatMap { try? SummaryDigest.fromJSON($0) } }
            let f1 = summaries.compactMap(\.bestMacroF1)
            let mean = f1.isEmpty ? nil : f1.reduce(0, +) / Double(f1.count)
            var sd: Double?
            if let mean, f1.count > 1 { sd = (f1.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(f1.count - 1)).squareRoot() }
            let epochs = summaries.map { Double($0.bestEpoch) }
            rows.append(Row(variant: variant, seedsDone: f1.count, seedsFailed: mine.filter { $0.state == .failed }.count,
                            meanF1: mean, sdF1: sd, deltaPP: nil, meanBestEpoch: epochs.isEmpty ? nil : epochs.reduce(0, +) / Double(epochs.count)))
        }
        if let base = rows.first(where: { $0.variant == baseline })?.meanF1 {
            for index in rows.indices { rows[index].deltaPP = rows[index].meanF1.map { 100 * ($0 - base) } }
        }
        self.rows = rows
    }

    /// A fixed-width text table.
    public func text() -> String {
        let width = max(8, rows.map(\.variant.count).max() ?? 8)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        var lines = [pad("variant", width) + "  seeds  val macro-F1 (best epoch)   Δ vs \(baseline)   best epoch"]
        for row in rows {
            let f1 = row.meanF1.map { String(format: "%.2f%%", 100 * $0) + (row.sdF1.map { String(format: " ± %.2f", 100 * $0) } ?? "") } ?? "—"
            let delta = row.variant == baseline ? "(baseline)" : (row.deltaPP.map { String(format: "%+.2f pp", $0) } ?? "—")
            let seeds = "\(row.seedsDone)" + (row.seedsFailed > 0 ? " (\(row.seedsFailed) failed)" : "")
            let epoch = row.meanBestEpoch.map { String(format: "%.1f", $0) } ?? "—"
            lines.append(pad(row.variant, width) + "  " + lpad(seeds, 5) + "  " + lpad(f1, 24) + "   " + lpad(delta, 12) + "   " + lpad(epoch, 10))
        }
        return lines.joined(separator: "\n")
    }
}
