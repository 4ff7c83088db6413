// LedgerStatus: a sweep's status read from its ledger alone — rows, progress from the stored epoch records, its line.
import Foundation
import WireProtocol

/// What `ablate status --state` and the dashboard show: the planned cells with the progress their stored epoch
/// records give (`CellProgress` fed in arrival order, every attempt), at time `now`; a pending cell of a cancelled
/// variant as `cancelled`.
public enum LedgerStatus {
    public static func reply(_ ledger: Ledger, now: Double) throws -> StatusReply {
        let cells = try ledger.plannedCells()
        var progress: [String: CellProgress] = [:]
        for cell in cells where cell.attempt > 0 {
            var cellProgress = CellProgress()
            for attempt in 1...cell.attempt {
                for record in try ledger.metrics(cell: cell.id, attempt: attempt) {
                    cellProgress.record(line: record.record, at: record.receivedAt)
                }
            }
            if cellProgress.lastReportAt != nil { progress[cell.id] = cellProgress }
        }
        var rows = StatusTable.rows(cells)
        // A pending cell of a variant a client cancelled shows as `cancelled`, as the coordinator shows it.
        let cancelled = Set(try ledger.cancelledVariants())
        for index in rows.indices where rows[index].state == "pending" && cancelled.contains(rows[index].variant) {
            rows[index].state = "cancelled"
        }
        let summary = StatusProgress.apply(to: &rows, progress: progress, now: now)
        return StatusReply(
            sweep: try ledger.sweepName() ?? "?", rows: rows, summary: summary,
            workers: StatusTable.workers(try ledger.workers(), cells: cells))
    }
}
