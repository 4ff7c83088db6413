// AdaptivePlanner: the coordinator loop's side of adaptive seeds — cells by sweep seed, the latest verdicts, the records to add.

/// Turns `AdaptiveSeeds` decisions into ledger records for the coordinator's loop thread. It knows every cell the
/// sweep's sequence can have (`SweepPlan.cells` and `laterCells`) by variant and sweep seed, takes the report's verdicts
/// from an `AdaptiveMailbox`, and logs a variant's reason when it changes. Not thread-safe: one loop owns it.
public struct AdaptivePlanner: Sendable {
    public let design: AdaptiveSeeds
    /// Cell id → (variant, sweep seed), for every cell of the sequence.
    private let seedCells: [String: AdaptiveSeeds.SeedCell]
    /// The records of the later seeds' cells, by (variant, sweep seed), with their plan positions.
    private let laterRecords: [AdaptiveSeeds.SeedCell: CellRecord]
    /// The latest report batch seen.
    public private(set) var latest: AdaptiveReportBatch?
    private var lastReasons: [String: String] = [:]

    /// The planner of `plan`'s sweep; nil for a list of seeds. The later cells' positions follow the plan's cells.
    public init?(plan: SweepPlan) throws {
        guard let design = AdaptiveSeeds(sweep: plan.sweep) else { return nil }
        self.design = design
        var seedCells: [String: AdaptiveSeeds.SeedCell] = [:]
        for cell in plan.cells where cell.id != plan.stage1Cell?.id {
            seedCells[cell.id] = AdaptiveSeeds.SeedCell(variant: cell.variant, sweepSeed: cell.sweepSeed)
        }
        var laterRecords: [AdaptiveSeeds.SeedCell: CellRecord] = [:]
        for (index, cell) in plan.laterCells.enumerated() {
            let key = AdaptiveSeeds.SeedCell(variant: cell.variant, sweepSeed: cell.sweepSeed)
            seedCells[cell.id] = key
            laterRecords[key] = try SweepPlan.record(cell, position: plan.cells.count + index)
        }
        self.seedCells = seedCells
        self.laterRecords = laterRecords
    }

    /// The progress of the cells of `cells` that belong to the sequence, by variant and sweep seed.
    public func progress<Cells: Sequence<CellRecord>>(_ cells: Cells) -> [AdaptiveSeeds.SeedCell: AdaptiveSeeds
        .Progress]
    {
        var out: [AdaptiveSeeds.SeedCell: AdaptiveSeeds.Progress] = [:]
        for cell in cells {
            guard let key = seedCells[cell.id] else { continue }
            switch cell.state {
            case .pending, .running: out[key] = .inFlight
            case .done: out[key] = .done
            case .failed: out[key] = .failed
            }
        }
        return out
    }

    /// Cells in state `done` among `cells` (what the report refresher counts).
    public static func doneCount<Cells: Sequence<CellRecord>>(_ cells: Cells) -> Int {
        cells.reduce(0) { $0 + ($1.state == .done ? 1 : 0) }
    }

    /// One step of the loop: takes a newer batch from `mailbox`, decides over `cells` (the scheduler's) and returns the
    /// records to add to the plan (cells the sequence lacks are skipped), a log line for each changed reason, and
    /// whether the sweep is settled.
    public mutating func step<Cells: Collection<CellRecord>>(cells: Cells, mailbox: AdaptiveMailbox)
        -> (records: [CellRecord], logs: [String], settled: Bool)
    {
        if let batch = mailbox.take() {
            // A failed build keeps the verdicts of the last good one.
            latest =
                batch.problem == nil
                ? batch
                : AdaptiveReportBatch(judgements: latest?.judgements ?? [:], problem: batch.problem, basis: batch.basis)
        }
        let current = latest?.basis == Self.doneCount(cells)
        let failed = current && latest?.problem != nil
        let decision = design.decide(
            cells: progress(cells), judgements: latest?.judgements ?? [:], reportIsCurrent: current,
            reportFailed: failed)
        var logs: [String] = []
        for (variant, reason) in decision.reasons where lastReasons[variant] != reason {
            lastReasons[variant] = reason
            logs.append("adaptive seeds: \(variant): \(reason)")
        }
        if failed, let problem = latest?.problem, !logs.isEmpty {
            logs.append("adaptive seeds: the report failed: \(problem)")
        }
        let records = decision.additions.compactMap { laterRecords[$0] }
        return (records, logs, decision.settled)
    }
}
