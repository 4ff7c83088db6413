// Ledger+Run: the sweep a state directory belongs to, the coordinator's incarnation counter, and the status snapshot.
import GRDB

extension Ledger {
    /// Starts a coordinator run: records the sweep (its name and text) and returns the new incarnation number
    /// (1 for the first run on this state directory, then 2, 3, …). Throws `LedgerError` of kind `otherSweep` when
    /// the state directory was used for a sweep with another name.
    @discardableResult
    public func beginRun(sweepName: String, sweepText: String) throws -> Int {
        try write("begin run of sweep \(sweepName)") { db in
            let recorded = try String.fetchOne(db, sql: "SELECT sweep_name FROM meta WHERE id = 1")
            if let recorded, recorded != sweepName {
                throw LedgerRefusal(.otherSweep, "this state directory belongs to sweep \(recorded), not \(sweepName)")
            }
            try db.execute(
                sql: "UPDATE meta SET sweep_name = ?, sweep_text = ?, incarnation = incarnation + 1 WHERE id = 1",
                arguments: [sweepName, sweepText])
            return try Ledger.incarnation(db)
        }
    }

    /// The recorded sweep's name; nil before the first `beginRun`.
    public func sweepName() throws -> String? {
        try read("read sweep name") { try String.fetchOne($0, sql: "SELECT sweep_name FROM meta WHERE id = 1") }
    }

    /// The recorded sweep's text (as given to the last `beginRun`); nil before the first one.
    public func sweepText() throws -> String? {
        try read("read sweep text") { try String.fetchOne($0, sql: "SELECT sweep_text FROM meta WHERE id = 1") }
    }

    /// The incarnation returned by the last `beginRun`; 0 before the first one.
    public func incarnation() throws -> Int {
        try read("read incarnation") { try Ledger.incarnation($0) }
    }

    /// Sweep, cells, latest attempts, workers and counters, read in one transaction.
    public func snapshot() throws -> LedgerSnapshot {
        try read("read snapshot") { db in
            let latest = try AttemptRecord.fetchAll(
                db,
                sql: """
                    SELECT a.* FROM attempts a
                    JOIN (SELECT cell, MAX(attempt) AS last FROM attempts GROUP BY cell) l
                      ON a.cell = l.cell AND a.attempt = l.last
                    """)
            return LedgerSnapshot(
                sweepName: try String.fetchOne(db, sql: "SELECT sweep_name FROM meta WHERE id = 1"),
                incarnation: try Ledger.incarnation(db),
                cells: try Ledger.allCells(db),
                latestAttempts: Dictionary(latest.map { ($0.cell, $0) }, uniquingKeysWith: { first, _ in first }),
                workers: try Ledger.allWorkers(db),
                counters: try Ledger.allCounters(db))
        }
    }

    static func incarnation(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT incarnation FROM meta WHERE id = 1") ?? 0
    }
}
