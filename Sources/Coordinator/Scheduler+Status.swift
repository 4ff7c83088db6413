// Scheduler+Status: one status row per cell of the plan, with its progress, the sweep's line, and the connected workers.
import WireProtocol

extension Scheduler {
    /// One row per cell, in plan order (a pending cell of a cancelled variant as `cancelled`), with what this process has seen of each cell's pace (`StatusProgress`), and
    /// the workers with an open session (`workers`, nil for none).
    public func statusReply(now: Double) -> StatusReply {
        var rows: [StatusReply.Row] = order.compactMap { id in
            guard let cell = cells[id] else { return nil }
            return StatusReply.Row(
                cell: id, variant: cell.variant, seed: cell.seed, stage: cell.stage,
                state: isCancelled(cell) ? "cancelled" : cell.state.rawValue,
                worker: cell.worker, attempt: cell.attempt, epoch: cell.epochsDone, epochs: cell.epochs,
                bestValMacroF1: cell.bestValMacroF1, etaSeconds: nil,
                reason: cell.state == .failed ? (cell.reason ?? "no reason recorded") : nil,
                workerLabel: cell.worker.flatMap { workerLabels[$0] })
        }
        let summary = StatusProgress.apply(to: &rows, progress: progress, now: now)
        return StatusReply(sweep: "", rows: rows, summary: summary, workers: sessionWorkers())
    }

    /// The newest session of each worker name, by name, as STATUS_REPLY's `workers`; nil when there is none.
    func sessionWorkers() -> [StatusReply.Worker]? {
        var newest: [String: Session] = [:]
        for session in sessions.values.sorted(by: { ($0.lastHeard, $0.id) < ($1.lastHeard, $1.id) }) {
            newest[session.worker] = session
        }
        guard !newest.isEmpty else { return nil }
        return newest.keys.sorted().compactMap { name in
            newest[name].map {
                StatusReply.Worker(
                    worker: name, host: $0.host, slots: $0.slots, gpus: $0.gpus, cells: $0.held.count,
                    label: workerLabels[name])
            }
        }
    }
}
