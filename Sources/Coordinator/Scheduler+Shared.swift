// Scheduler+Shared: a cell that another sweep of a lab ran (the same id) becomes done here with that run's result.
import WireProtocol

/// What a lab hands a sweep when another sweep finished a cell they share: the run's files (already in this sweep's
/// artifact store), its metrics by epoch, and its summary.
public struct SharedResult: Sendable {
    /// The sweep that ran the cell.
    public var sweep: String
    /// The worker of its final attempt.
    public var worker: String
    public var summaryJSON: String?
    public var epochsDone: Int
    public var bestValMacroF1: Double?
    /// Each file with its epoch, SHA-256, size and ledger path in this sweep's store.
    public var files: [(name: String, epoch: Int, artifact: ArtifactRecord)]
    /// The run's metrics records, one per epoch in order (`ResultsWriter.mergedMetrics` of the owner).
    public var metrics: [(epoch: Int, valMacroF1: Double, record: String)]

    public init(
        sweep: String, worker: String, summaryJSON: String?, epochsDone: Int, bestValMacroF1: Double?,
        files: [(name: String, epoch: Int, artifact: ArtifactRecord)],
        metrics: [(epoch: Int, valMacroF1: Double, record: String)]
    ) {
        self.sweep = sweep
        self.worker = worker
        self.summaryJSON = summaryJSON
        self.epochsDone = epochsDone
        self.bestValMacroF1 = bestValMacroF1
        self.files = files
        self.metrics = metrics
    }
}

extension Scheduler {
    /// The pending cell `id` was run by another sweep of the lab (`result`): it becomes done here as one attempt
    /// (worker `result.worker`, session `shared:<sweep>`): the attempt is saved first, then the run's files and
    /// metrics, then the cell done, so a kill in between leaves a running cell without a worker, requeued after the
    /// restart grace and adopted again as the next attempt. Its results are then written like any finished cell's.
    /// Anything but a pending cell is left as it is.
    public mutating func adoptDone(_ id: String, result: SharedResult, now: Double) -> [SchedulerAction] {
        guard var cell = cells[id], cell.state == .pending else { return [] }
        heldBack.remove(id)
        let attempt = cell.attempt + 1
        cell.attempt = attempt
        cell.state = .running
        cell.updatedAt = now
        // The attempt first (a kill after it leaves a running cell without a worker: requeued after the restart
        // grace, then adopted again as the next attempt), then the run's files and metrics, then the cell done.
        var actions: [SchedulerAction] = [
            .saveCell(
                cell,
                starting: AttemptRecord(
                    cell: id, attempt: attempt, worker: result.worker, session: "shared:\(result.sweep)", startedAt: now
                ),
                ending: nil)
        ]
        for file in result.files {
            actions.append(.addArtifact(file.artifact))
            let record = CellFileRecord(
                cell: id, attempt: attempt, name: file.name, epoch: file.epoch, sha256: file.artifact.sha256)
            actions.append(.recordCellFile(record))
            recordAdopted(record, size: file.artifact.size)
        }
        for (index, metrics) in result.metrics.enumerated() {
            actions.append(
                .storeMetrics(
                    MetricsRecord(
                        cell: id, attempt: attempt, seq: index + 1, epoch: metrics.epoch,
                        valMacroF1: metrics.valMacroF1, record: metrics.record, receivedAt: now)))
        }
        cell.state = .done
        cell.summaryJSON = result.summaryJSON
        cell.epochsDone = result.epochsDone
        cell.bestValMacroF1 = result.bestValMacroF1
        cell.reason = nil
        cells[id] = cell
        actions.append(
            .saveCell(
                cell, starting: nil,
                ending: AttemptEnd(attempt: attempt, outcome: "done", reason: "run by sweep \(result.sweep)", at: now)))
        actions.append(.finishCell(cell))
        actions.append(.log("cell \(cell.variant)/seed-\(cell.seed) done by sweep \(result.sweep) (the same cell)"))
        return actions
    }
}
