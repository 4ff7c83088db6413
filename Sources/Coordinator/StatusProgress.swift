// StatusProgress: status rows filled in from cells' progress, and the sweep's line (cells, ETA, worker time).
import WireProtocol

/// Joins status rows with their cells' `CellProgress` at a time: the same for a running coordinator and the ledger.
public enum StatusProgress {
    /// Fills each row's pace, loss, latest metric, elapsed time and (while running) ETA; returns the sweep's line.
    public static func apply(
        to rows: inout [StatusReply.Row], progress: [String: CellProgress], now: Double
    ) -> StatusSummary {
        for index in rows.indices {
            guard let cell = progress[rows[index].cell] else { continue }
            let running = rows[index].state == "running"
            let since = running ? cell.lastReportAt.map { max(0, now - $0) } ?? 0 : 0
            if cell.workSeconds > 0 || (running && cell.lastReportAt != nil) {
                rows[index].elapsedSeconds = cell.workSeconds + since
            }
            rows[index].epochSeconds = cell.secondsPerEpoch
            rows[index].samplesPerSecond = cell.samplesPerSecond
            if running, let within = cell.within {
                rows[index].phase = cell.phaseText
                // Inside an epoch's training the worker's own rate is the current one.
                if within.phase == .train || cell.samplesPerSecond == nil {
                    rows[index].samplesPerSecond = within.rowsPerSecond ?? rows[index].samplesPerSecond
                }
            }
            rows[index].trainLoss = cell.trainLoss
            rows[index].lastValMacroF1 = cell.lastValMacroF1
            if running {
                rows[index].etaSeconds = cell.eta(
                    remainingEpochs: max(0, rows[index].epochs - rows[index].epoch), now: now)
            }
        }
        return summary(rows, progress: progress, now: now)
    }

    /// The sweep's line: every cell not done or failed still runs its remaining epochs at its own pace, else at
    /// the median pace of its stage's cells, else of all cells; the total is shared by the cells running now (at
    /// least one). Early stopping makes it an upper bound.
    static func summary(_ rows: [StatusReply.Row], progress: [String: CellProgress], now: Double) -> StatusSummary {
        var paceByStage: [String: [Double]] = [:]
        for row in rows {
            if let pace = progress[row.cell]?.secondsPerEpoch { paceByStage[row.stage, default: []].append(pace) }
        }
        let allPaces = paceByStage.values.flatMap { $0 }
        var remaining = 0.0
        var known = true
        for row in rows where row.state != "done" && row.state != "failed" {
            let epochs = max(0, row.epochs - row.epoch)
            if let cell = progress[row.cell], row.state == "running",
                let eta = cell.eta(remainingEpochs: epochs, now: now)
            {
                remaining += eta
            } else if let pace = median(paceByStage[row.stage] ?? []) ?? median(allPaces) {
                remaining += Double(epochs) * pace
            } else {
                known = false
            }
        }
        let running = rows.filter { $0.state == "running" }.count
        let work = rows.reduce(0.0) { $0 + (progress[$1.cell]?.workSeconds ?? 0) }
        return StatusSummary(
            cells: rows.count, done: rows.filter { $0.state == "done" }.count, running: running,
            failed: rows.filter { $0.state == "failed" }.count,
            etaSeconds: known ? remaining / Double(max(1, running)) : nil, workerSeconds: work)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
