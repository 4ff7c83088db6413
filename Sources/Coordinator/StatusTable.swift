// StatusTable: one line per cell — state, worker, attempt, epoch/total, pace, loss, val macro-F1, ETA — and the sweep's line.
import Foundation
import WireProtocol

/// Renders status rows (from a running coordinator or from the ledger) as a fixed-width table.
public enum StatusTable {
    /// Rows from the ledger, without progress (`StatusProgress.apply` adds it from the ledger's epoch records).
    public static func rows(_ cells: [CellRecord]) -> [StatusReply.Row] {
        cells.map {
            StatusReply.Row(
                cell: $0.id, variant: $0.variant, seed: $0.seed, stage: $0.stage, state: $0.state.rawValue,
                worker: $0.worker,
                attempt: $0.attempt, epoch: $0.epochsDone, epochs: $0.epochs, bestValMacroF1: $0.bestValMacroF1,
                etaSeconds: nil,
                reason: $0.state == .failed ? ($0.reason ?? "no reason recorded") : nil)
        }
    }

    /// Why each failed cell of the ledger failed, by cell id.
    public static func failureReasons(_ cells: [CellRecord]) -> [String: String] {
        Dictionary(
            cells.filter { $0.state == .failed }.map {
                ($0.id, PrintableText.oneLine($0.reason ?? "no reason recorded"))
            },
            uniquingKeysWith: { a, _ in a })
    }

    /// The failed rows' reasons by cell id (rows from a running coordinator carry them).
    public static func failureReasons(_ rows: [StatusReply.Row]) -> [String: String] {
        Dictionary(
            rows.compactMap { row in row.reason.map { (row.cell, PrintableText.oneLine($0)) } },
            uniquingKeysWith: { a, _ in a })
    }

    /// The table, its totals line (with the sweep's ETA and worker time when `summary` is given), then one line per
    /// failed cell with its reason (from `reasons`, by cell id).
    public static func text(
        _ rows: [StatusReply.Row], reasons: [String: String] = [:], summary: StatusSummary? = nil
    ) -> String {
        let variantWidth = max(7, rows.map(\.variant.count).max() ?? 7)
        // A worker's label (from a running coordinator) follows its name: `gpu0 [slurm:1234_5]`.
        func worker(_ row: StatusReply.Row) -> String {
            guard let name = row.worker else { return "" }
            return row.workerLabel.map { "\(name) [\(PrintableText.oneLine($0, limit: WorkerLabel.maxBytes))]" } ?? name
        }
        let workerWidth = max(6, rows.map { worker($0).count }.max() ?? 6)
        // A replica's derived seeds have up to 10 digits.
        let seedWidth = max(4, rows.map { "\($0.seed)".count }.max() ?? 4)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func right(_ s: String, _ n: Int) -> String {
            s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
        }
        func percent(_ value: Double?) -> String {
            value.flatMap { $0.isFinite ? String(format: "%6.2f%%", 100 * $0) : nil } ?? "     —"
        }
        var lines = [
            pad("variant", variantWidth) + "  " + pad("seed", seedWidth) + "  stage  state    "
                + pad("worker", workerWidth)
                + "  try  epoch    phase        elapsed  s/epoch  rows/s    loss  last F1    best F1      ETA"
        ]
        for row in rows {
            let elapsed = shownSeconds(row.elapsedSeconds).map(duration) ?? "—"
            let pace = shownSeconds(row.epochSeconds).map { String(format: "%.1f", $0) } ?? "—"
            let rate = shownSeconds(row.samplesPerSecond).map { String(format: "%.0f", $0) } ?? "—"
            let loss = row.trainLoss.flatMap { $0.isFinite && abs($0) < 1e6 ? String(format: "%.4f", $0) : nil } ?? "—"
            lines.append(
                pad(row.variant, variantWidth) + "  " + pad("\(row.seed)", seedWidth) + "  " + pad(row.stage, 5) + "  "
                    + pad(row.state, 7)
                    + "  " + pad(worker(row), workerWidth) + "  " + pad("\(row.attempt)", 3) + "  "
                    + pad("\(row.epoch)/\(row.epochs)", 7) + "  " + pad(PrintableText.oneLine(row.phase ?? ""), 11)
                    + "  " + right(elapsed, 7) + "  " + right(pace, 7) + "  "
                    + right(rate, 6) + "  " + right(loss, 6) + "  " + pad(percent(row.lastValMacroF1), 7) + "  "
                    + pad(percent(row.bestValMacroF1), 9) + "  " + (shownSeconds(row.etaSeconds).map(duration) ?? "—"))
        }
        let done = rows.filter { $0.state == "done" }.count
        let failed = rows.filter { $0.state == "failed" }.count
        let running = rows.filter { $0.state == "running" }.count
        var totals = "\(done)/\(rows.count) done, \(running) running, \(failed) failed"
        if let summary {
            let eta = shownSeconds(summary.etaSeconds).map(duration) ?? "—"
            let hours = shownSeconds(summary.workerSeconds).map { String(format: "%.2f", $0 / 3600) } ?? "—"
            totals += "; sweep ETA \(eta); \(hours) worker-hours"
        }
        lines.append(totals)
        for row in rows where row.state == "failed" {
            if let reason = reasons[row.cell] { lines.append("failed: \(row.variant) seed \(row.seed): \(reason)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Seconds as `45s`, `2m05s` or `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        if whole >= 3600 { return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60) }
        if whole >= 60 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return "\(whole)s"
    }

    /// An estimate that is a finite, non-negative number of seconds; nil for any other (a peer's) value.
    private static func shownSeconds(_ seconds: Double?) -> Double? {
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e12 else { return nil }
        return seconds
    }
}
