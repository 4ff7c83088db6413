// Scheduler+Plan: cells added to the plan while the sweep runs (an adaptive sweep's later seeds, `ablate extend`).
import WireProtocol

extension Scheduler {
    /// Adds cells to the plan after start (an adaptive sweep's later seeds, an extension's cells), as the ledger
    /// stores them, after the cells already planned, with the commands of the new command cells; cells already known
    /// are skipped. A sweep that had finished has work again. Returns the assignments that follow.
    public mutating func addCells(
        _ records: [CellRecord], now: Double, commands added: [String: CellCommand] = [:]
    ) -> [SchedulerAction] {
        commands.merge(added) { _, new in new }
        var actions: [SchedulerAction] = []
        for var cell in records where cells[cell.id] == nil {
            if cell.state == .running {
                // Left running by an earlier coordinator while it was not planned: its worker is not waited for.
                let ended = AttemptEnd(
                    attempt: cell.attempt, outcome: "lost", reason: "planned again after a restart", at: now)
                cell.state = .pending
                cell.worker = nil
                cell.epochsDone = cell.resumeEpoch
                cell.updatedAt = now
                actions.append(.saveCell(cell, starting: nil, ending: ended))
            }
            cells[cell.id] = cell
            order.append(cell.id)
            // A sweep that had finished has work again: it announces its end once more when that is done.
            finishAnnounced = false
            actions.append(.log("cell \(cell.variant)/seed-\(cell.seed) added to the plan"))
        }
        return actions + assign(now: now)
    }
}
