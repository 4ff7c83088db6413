// Scheduler+Damage: the coordinator's own copy of a resume checkpoint found damaged — fall back or start afresh.
import WireProtocol

extension Scheduler {
    /// An earlier verified checkpoint a cell can resume from instead of a damaged one.
    public struct ResumePoint: Equatable, Sendable {
        public var sha256: String
        public var epoch: Int
        public var size: Int64
        public init(sha256: String, epoch: Int, size: Int64) {
            self.sha256 = sha256
            self.epoch = epoch
            self.size = size
        }
    }

    /// The coordinator's own copy of artifact `sha` is damaged or gone (it failed its SHA-256 check before being
    /// served). It is never offered again. Each cell resuming from it falls back to `fallbacks[cell]` (an earlier
    /// verified checkpoint of that cell) or, without one, to a fresh start; an attempt already handed it is cancelled
    /// and ended as `lost` with the reason, so the coordinator's damage costs no attempt of the cell's budget.
    public mutating func artifactDamaged(_ sha: String, fallbacks: [String: ResumePoint], path: String, now: Double)
        -> [SchedulerAction]
    {
        artifactSizes[sha] = nil
        var actions: [SchedulerAction] = []
        for id in order {
            guard var cell = cells[id], cell.resumeSHA256 == sha, cell.state == .pending || cell.state == .running
            else { continue }
            let fallback = fallbacks[id]
            if let fallback { artifactSizes[fallback.sha256] = fallback.size }
            cell.resumeSHA256 = fallback?.sha256
            cell.resumeEpoch = fallback?.epoch ?? 0
            cell.epochsDone = cell.resumeEpoch
            cell.updatedAt = now
            cells[id] = cell
            let instead =
                fallback.map { "resuming from its epoch-\($0.epoch) checkpoint \($0.sha256.prefix(12))… instead" }
                ?? "starting afresh"
            actions.append(
                .log(
                    "cell \(cell.variant)/seed-\(cell.seed): resume checkpoint \(path) is damaged; \(instead) (no attempt counted)",
                    level: .warning))
            actions.append(.count("damaged_resume_checkpoint"))
            guard cell.state == .running else {
                actions.append(.saveCell(cell, starting: nil, ending: nil))
                continue
            }
            // The attempt handed the damaged file ends as lost (no failure counted), then its worker is told.
            let reason = "the coordinator's copy of its resume checkpoint \(path) is damaged"
            orphanDeadline[id] = nil
            actions += requeue(id, now: now, outcome: "lost", reason: reason)
            for (sessionID, session) in sessions.sorted(by: { $0.key < $1.key }) where session.held[id] == cell.attempt
            {
                sessions[sessionID]?.held[id] = nil
                actions.append(.send(session.peer, .cancel(Cancel(cell: id, attempt: cell.attempt, reason: reason))))
            }
        }
        return actions + assign(now: now)
    }

    /// Cells whose resume point is `sha`.
    public func cellsResuming(from sha: String) -> [CellRecord] {
        order.compactMap { cells[$0] }.filter { $0.resumeSHA256 == sha }
    }
}
