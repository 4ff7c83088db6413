// Scheduler+Status: one status row per cell of the plan, with its estimated time to finish.
import WireProtocol

extension Scheduler {
    /// One row per cell, in plan order.
    public func statusReply(now: Double) -> StatusReply {
        StatusReply(
            sweep: "",
            rows: order.compactMap { id in
                guard let cell = cells[id] else { return nil }
                var eta: Double?
                // A report without a usable epoch time (0, negative or not finite: not reported) gives no estimate.
                if cell.state == .running, let seconds = epochSeconds[id], seconds > 0 {
                    let remaining = Double(max(0, cell.epochs - cell.epochsDone)) * seconds
                    if remaining.isFinite { eta = remaining }
                }
                return StatusReply.Row(
                    cell: id, variant: cell.variant, seed: cell.seed, stage: cell.stage, state: cell.state.rawValue,
                    worker: cell.worker, attempt: cell.attempt, epoch: cell.epochsDone, epochs: cell.epochs,
                    bestValMacroF1: cell.bestValMacroF1, etaSeconds: eta,
                    reason: cell.state == .failed ? (cell.reason ?? "no reason recorded") : nil,
                    workerLabel: cell.worker.flatMap { workerLabels[$0] })
            })
    }
}
