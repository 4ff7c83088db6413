// Ledger+Retry: failed cells back to pending with a fresh attempt budget, their earlier attempts kept.
import GRDB

extension Ledger {
    /// Makes the failed cells `ids` pending again, in one transaction: the failure count starts over (a fresh
    /// budget of `max_attempts`), the reason is cleared, and the attempt number is kept, so the next attempt gets
    /// the next number and every earlier attempt stays in `attempts` with its outcome and reason. A retried cell
    /// resumes from its last verified `last.h5` when it has one (its result is a function of its config and seed,
    /// whatever attempt computes it). Failed cells that depend on a retried one and never ran (failed because their
    /// stage-1 job did) are retried with it.
    ///
    /// Refusals (`LedgerError.kind`): `unknownCell` for an id not in the ledger, `invalid` for a cell that is not
    /// failed (a done cell's result is final; a pending or running one needs no retry). Nothing changes then.
    /// - Returns: the retried cells as stored, the named ones first, in sweep order.
    @discardableResult
    public func retry(_ ids: [String], at time: Double) throws -> [CellRecord] {
        try write("retry \(ids.count) cells") { db in
            var retried: [CellRecord] = []
            var named = Set<String>()
            for id in ids where !named.contains(id) {
                guard var cell = try CellRecord.fetchOne(db, key: id) else {
                    throw LedgerRefusal(.unknownCell, "no cell \(id)")
                }
                guard cell.state == .failed else {
                    throw LedgerRefusal(
                        .invalid, "cell \(cell.variant)/seed-\(cell.seed) is \(cell.state.rawValue), not failed")
                }
                named.insert(id)
                Self.reset(&cell, at: time)
                try cell.update(db)
                retried.append(cell)
            }
            // Dependents that failed with their dependency, found level by level (stage 1 → stage 2).
            var frontier = named
            while !frontier.isEmpty {
                let dependents = try CellRecord.filter(sql: "state = 'failed' AND failures = 0").fetchAll(db)
                    .filter { $0.dependsOn.map(frontier.contains) ?? false }
                frontier = []
                for var cell in dependents where !named.contains(cell.id) {
                    named.insert(cell.id)
                    frontier.insert(cell.id)
                    Self.reset(&cell, at: time)
                    try cell.update(db)
                    retried.append(cell)
                }
            }
            return retried
        }
    }

    private static func reset(_ cell: inout CellRecord, at time: Double) {
        cell.state = .pending
        cell.failures = 0
        cell.reason = nil
        cell.worker = nil
        cell.epochsDone = cell.resumeEpoch
        cell.updatedAt = time
    }
}
