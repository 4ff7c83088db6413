// Scheduler+Status: one status row per cell of the plan, with its progress, and the sweep's line.
import WireProtocol

extension Scheduler {
    /// One row per cell, in plan order, with what this process has seen of each cell's pace (`StatusProgress`).
    public func statusReply(now: Double) -> StatusReply {
        var rows: [StatusReply.Row] = order.compactMap { id in
            guard let cell = cells[id] else { return nil }
            return StatusReply.Row(
                cell: id, variant: cell.variant, seed: cell.seed, stage: cell.stage, state: cell.state.rawValue,
                worker: cell.worker, attempt: cell.attempt, epoch: cell.epochsDone, epochs: cell.epochs,
                bestValMacroF1: cell.bestValMacroF1, etaSeconds: nil,
                reason: cell.state == .failed ? (cell.reason ?? "no reason recorded") : nil)
        }
        let summary = StatusProgress.apply(to: &rows, progress: progress, now: now)
        return StatusReply(sweep: "", rows: rows, summary: summary)
    }
}
