// Ledger+Cells: adding cells, reading them, and changing a cell together with its attempts (exactly-once done).
import GRDB

extension Ledger {
    /// Inserts the cells whose id is not in the ledger yet; cells already there are left untouched (so a restarted
    /// coordinator keeps their progress). Returns how many were inserted. `dependsOn` must name a cell that is in
    /// the ledger or in `cells`.
    @discardableResult
    public func addCells(_ cells: [CellRecord]) throws -> Int {
        try write("add \(cells.count) cells") { db in
            var inserted = 0
            for cell in cells {
                if try CellRecord.exists(db, key: cell.id) { continue }
                try cell.insert(db)
                inserted += 1
            }
            return inserted
        }
    }

    /// Marks exactly the cells in `ids` as the current plan (the sweep as last submitted); every other cell stays in
    /// the ledger with its history but is left out of `plannedCells()`.
    public func setPlan(_ ids: [String]) throws {
        try write("set the plan of \(ids.count) cells") { db in
            try db.execute(sql: "UPDATE cells SET planned = 0")
            for id in ids { try db.execute(sql: "UPDATE cells SET planned = 1 WHERE id = ?", arguments: [id]) }
        }
    }

    /// Adds `cells` to the current plan in one transaction: those whose id is not in the ledger yet are inserted,
    /// and every one of them is marked planned (a cell already there keeps its state and history). An adaptive
    /// sweep's coordinator adds the cells of a later seed this way (`AdaptiveSeeds`). Returns the cells as stored.
    @discardableResult
    public func addPlannedCells(_ cells: [CellRecord]) throws -> [CellRecord] {
        try write("add \(cells.count) planned cells") { db in try Self.addPlanned(cells, db) }
    }

    /// `addPlannedCells` inside a transaction.
    static func addPlanned(_ cells: [CellRecord], _ db: Database) throws -> [CellRecord] {
        var stored: [CellRecord] = []
        for cell in cells {
            if let held = try CellRecord.fetchOne(db, key: cell.id) {
                stored.append(held)
            } else {
                try cell.insert(db)
                stored.append(cell)
            }
            try db.execute(sql: "UPDATE cells SET planned = 1 WHERE id = ?", arguments: [cell.id])
        }
        return stored
    }

    /// The cells of the current plan, in sweep order (all cells when no plan was ever set).
    public func plannedCells() throws -> [CellRecord] {
        try read("read planned cells") { db in
            try CellRecord.filter(sql: "planned = 1").order(Column("position"), Column("id")).fetchAll(db)
        }
    }

    /// Every cell, in sweep order (`position`, then id).
    public func cells() throws -> [CellRecord] {
        try read("read cells") { try Ledger.allCells($0) }
    }

    /// The cell with id `id`, if any.
    public func cell(_ id: String) throws -> CellRecord? {
        try read("read cell \(id)") { try CellRecord.fetchOne($0, key: id) }
    }

    /// Saves `cell` (which must be in the ledger) and, in the same transaction, closes `endingAttempt` (if given)
    /// and then inserts `startingAttempt` (if given). Either all of it is stored or none.
    ///
    /// Refusals (`LedgerError.kind`):
    /// - `alreadyDone`: the stored cell is `done`; a done cell never changes again (its result is final).
    /// - `staleAttempt`: `cell.state` is `done` but the stored cell's attempt differs from `cell.attempt`.
    /// - `unknownCell`: no cell with that id.
    /// - `invalid`: `startingAttempt` is for another cell, has a number other than `cell.attempt`, or exists
    ///   already; `endingAttempt` names an attempt that does not exist or an unknown outcome.
    ///
    /// Closing an attempt that has already ended leaves its first ending in place.
    public func update(
        _ cell: CellRecord, startingAttempt: AttemptRecord? = nil,
        endingAttempt: (attempt: Int, outcome: String, reason: String?, at: Double)? = nil
    ) throws {
        try write("update cell \(cell.id)") { db in
            guard let stored = try CellRecord.fetchOne(db, key: cell.id) else {
                throw LedgerRefusal(.unknownCell, "no such cell")
            }
            if stored.state == .done {
                throw LedgerRefusal(
                    .alreadyDone,
                    "the cell is already done (attempt \(stored.attempt)); refusing to make it \(cell.state.rawValue)")
            }
            if cell.state == .done, stored.attempt != cell.attempt {
                throw LedgerRefusal(
                    .staleAttempt,
                    "cannot mark done with attempt \(cell.attempt): the cell's current attempt is \(stored.attempt)")
            }
            if let ending = endingAttempt {
                try Ledger.close(
                    attempt: ending.attempt, of: cell.id, outcome: ending.outcome, reason: ending.reason, at: ending.at,
                    db)
            }
            if let starting = startingAttempt {
                try Ledger.insert(starting, for: cell, db)
            }
            try cell.update(db)
        }
    }

    /// Every attempt of cell `cell`, by attempt number.
    public func attempts(cell: String) throws -> [AttemptRecord] {
        try read("read attempts of cell \(cell)") { db in
            try AttemptRecord.filter(Column("cell") == cell).order(Column("attempt")).fetchAll(db)
        }
    }

    static func allCells(_ db: Database) throws -> [CellRecord] {
        try CellRecord.order(Column("position"), Column("id")).fetchAll(db)
    }

    private static func close(
        attempt: Int, of cell: String, outcome: String, reason: String?, at time: Double, _ db: Database
    ) throws {
        guard AttemptOutcome(rawValue: outcome) != nil else {
            let known = AttemptOutcome.allCases.map(\.rawValue).joined(separator: ", ")
            throw LedgerRefusal(.invalid, "attempt outcome \"\(outcome)\" is not one of \(known)")
        }
        try db.execute(
            sql:
                "UPDATE attempts SET ended_at = ?, outcome = ?, reason = ? WHERE cell = ? AND attempt = ? AND ended_at IS NULL",
            arguments: [time, outcome, reason, cell, attempt])
        if db.changesCount == 0, try !AttemptRecord.exists(db, key: ["cell": cell, "attempt": attempt]) {
            throw LedgerRefusal(.invalid, "cannot end attempt \(attempt): the cell has no such attempt")
        }
    }

    private static func insert(_ attempt: AttemptRecord, for cell: CellRecord, _ db: Database) throws {
        guard attempt.cell == cell.id else {
            throw LedgerRefusal(.invalid, "the starting attempt belongs to cell \(attempt.cell)")
        }
        guard attempt.attempt == cell.attempt else {
            throw LedgerRefusal(
                .invalid, "the starting attempt is number \(attempt.attempt) but the cell's attempt is \(cell.attempt)")
        }
        if try AttemptRecord.exists(db, key: ["cell": attempt.cell, "attempt": attempt.attempt]) {
            throw LedgerRefusal(.invalid, "attempt \(attempt.attempt) was started before")
        }
        try attempt.insert(db)
    }
}
