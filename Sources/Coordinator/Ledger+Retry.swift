// Ledger+Retry: failed cells back to pending with a fresh attempt budget, their earlier attempts kept.
import GRDB

/// The rules of a retry as pure functions over cell records, shared by the offline `ablate retry --state` (through
/// `Ledger.retry`) and the running coordinator (`Scheduler` control `retry`): which cells a request names, and how a
/// retried cell is reset.
public enum RetryRule {
    /// A request that names nothing to retry, or names a cell that cannot be retried; `kind` says which
    /// (`unknownCell`, `invalid`).
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public var kind: LedgerError.Kind
        public var message: String
        public var description: String { message }
    }

    /// The ids to retry: with `failed`, the failed cells of `planned` (of `variant`); else each of `prefixes` resolved
    /// to the one cell of `all` whose id starts with it.
    /// - Throws: `Refusal` for an unknown `variant`, a prefix matching no cell or several, or no failed cell.
    public static func select(
        failed: Bool, variant: String?, prefixes: [String], planned: [CellRecord], all: [CellRecord]
    ) throws(Refusal) -> [String] {
        if failed {
            if let variant, !planned.contains(where: { $0.variant == variant }) {
                let names = Set(planned.map(\.variant)).sorted().joined(separator: ", ")
                throw Refusal(kind: .invalid, message: "--variant \(variant): no such variant in the sweep (\(names))")
            }
            let ids = planned.filter { $0.state == .failed && (variant == nil || $0.variant == variant) }.map(\.id)
            guard !ids.isEmpty else {
                throw Refusal(
                    kind: .invalid, message: "no failed cell\(variant.map { " of variant \($0)" } ?? "") to retry")
            }
            return ids
        }
        var ids: [String] = []
        for prefix in prefixes {
            let matches = all.filter { $0.id.hasPrefix(prefix) }
            guard matches.count == 1, let match = matches.first else {
                throw Refusal(
                    kind: .unknownCell,
                    message: matches.isEmpty
                        ? "--cell \(prefix): no such cell"
                        : "--cell \(prefix): \(matches.count) cells start so; give more digits"
                )
            }
            ids.append(match.id)
        }
        return ids
    }

    /// The failed cells `ids` of `cells` made pending again (see `Ledger.retry`), the named ones first, then the
    /// failed cells that depend on one of them and never ran, level by level.
    /// - Throws: `Refusal` (`unknownCell`) for an id not in `cells`, (`invalid`) for a cell that is not failed.
    public static func apply(_ ids: [String], to cells: [CellRecord], at time: Double) throws(Refusal) -> [CellRecord] {
        let byID = Dictionary(cells.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var retried: [CellRecord] = []
        var named = Set<String>()
        for id in ids where !named.contains(id) {
            guard var cell = byID[id] else { throw Refusal(kind: .unknownCell, message: "no cell \(id)") }
            guard cell.state == .failed else {
                throw Refusal(
                    kind: .invalid,
                    message: "cell \(cell.variant)/seed-\(cell.seed) is \(cell.state.rawValue), not failed")
            }
            named.insert(id)
            reset(&cell, at: time)
            retried.append(cell)
        }
        // Dependents that failed with their dependency, found level by level (stage 1 → stage 2).
        var frontier = named
        while !frontier.isEmpty {
            let dependents = cells.filter {
                $0.state == .failed && $0.failures == 0 && ($0.dependsOn.map(frontier.contains) ?? false)
            }
            frontier = []
            for var cell in dependents where !named.contains(cell.id) {
                named.insert(cell.id)
                frontier.insert(cell.id)
                reset(&cell, at: time)
                retried.append(cell)
            }
        }
        return retried
    }

    /// Pending, a fresh failure budget, no reason nor worker, progress back to the last checkpoint; the attempt
    /// number is kept.
    static func reset(_ cell: inout CellRecord, at time: Double) {
        cell.state = .pending
        cell.failures = 0
        cell.reason = nil
        cell.worker = nil
        cell.epochsDone = cell.resumeEpoch
        cell.updatedAt = time
    }
}

extension Ledger {
    /// Makes the failed cells `ids` pending again, in one transaction: the failure count starts over (a fresh
    /// budget of `max_attempts`), the reason is cleared, and the attempt number is kept, so the next attempt gets
    /// the next number and every earlier attempt stays in `attempts` with its outcome and reason. A retried cell
    /// resumes from its last verified `last.h5` when it has one (its result is a function of its config and seed,
    /// whatever attempt computes it). Failed cells that depend on a retried one and never ran (failed because their
    /// stage-1 job did) are retried with it (`RetryRule.apply`).
    ///
    /// Refusals (`LedgerError.kind`): `unknownCell` for an id not in the ledger, `invalid` for a cell that is not
    /// failed (a done cell's result is final; a pending or running one needs no retry). Nothing changes then.
    /// - Returns: the retried cells as stored, the named ones first, in sweep order.
    @discardableResult
    public func retry(_ ids: [String], at time: Double) throws -> [CellRecord] {
        try write("retry \(ids.count) cells") { db in
            let all = try Ledger.allCells(db)
            let retried: [CellRecord]
            do throws(RetryRule.Refusal) {
                retried = try RetryRule.apply(ids, to: all, at: time)
            } catch {
                throw LedgerRefusal(error.kind, error.message)
            }
            for cell in retried { try cell.update(db) }
            return retried
        }
    }
}
