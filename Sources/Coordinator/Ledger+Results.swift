// Ledger+Results: epoch metrics, stored artifacts and the files each attempt produced, workers, and counters.
import GRDB

extension Ledger {
    // MARK: - Metrics

    /// Stores one epoch report unless one with the same (cell, attempt, seq) is stored already. Returns whether it
    /// was new. The cell must be in the ledger.
    @discardableResult
    public func appendMetrics(_ metrics: MetricsRecord) throws -> Bool {
        try write("append metrics \(metrics.seq) of cell \(metrics.cell) attempt \(metrics.attempt)") { db in
            try metrics.insert(db, onConflict: .ignore)
            return db.changesCount > 0
        }
    }

    /// The highest seq stored for that attempt; 0 when none.
    public func lastMetricsSeq(cell: String, attempt: Int) throws -> Int {
        try read("read last metrics seq of cell \(cell) attempt \(attempt)") { db in
            try Int.fetchOne(
                db, sql: "SELECT MAX(seq) FROM metrics WHERE cell = ? AND attempt = ?", arguments: [cell, attempt]) ?? 0
        }
    }

    /// The reports of that attempt, by seq.
    public func metrics(cell: String, attempt: Int) throws -> [MetricsRecord] {
        try read("read metrics of cell \(cell) attempt \(attempt)") { db in
            try MetricsRecord.filter(Column("cell") == cell && Column("attempt") == attempt).order(Column("seq"))
                .fetchAll(db)
        }
    }

    // MARK: - Artifacts and cell files

    /// Records a verified artifact. Idempotent: when that SHA-256 is recorded already, the stored row stays.
    public func addArtifact(_ artifact: ArtifactRecord) throws {
        try write("add artifact \(artifact.sha256)") { db in
            if try !ArtifactRecord.exists(db, key: artifact.sha256) {
                try artifact.insert(db)
            }
        }
    }

    /// The artifact with that SHA-256, if recorded.
    public func artifact(_ sha256: String) throws -> ArtifactRecord? {
        try read("read artifact \(sha256)") { try ArtifactRecord.fetchOne($0, key: sha256) }
    }

    /// Records that an attempt produced a file, replacing the row with the same (cell, attempt, name). Its
    /// artifact must be recorded first.
    public func addCellFile(_ file: CellFileRecord) throws {
        try write("add \(file.name) of cell \(file.cell) attempt \(file.attempt)") { db in
            try file.insert(db, onConflict: .replace)
        }
    }

    /// The files of that attempt, by name.
    public func cellFiles(cell: String, attempt: Int) throws -> [CellFileRecord] {
        try read("read files of cell \(cell) attempt \(attempt)") { db in
            try CellFileRecord.filter(Column("cell") == cell && Column("attempt") == attempt).order(Column("name"))
                .fetchAll(db)
        }
    }

    /// A cell's results as of attempt `attempt`: for each file name, the record of the latest attempt up to
    /// `attempt` that produced it. A resumed attempt that never beats the best epoch of an earlier attempt writes
    /// no `best.h5` or `predictions.h5` of its own, so those come from the attempt that reached the best epoch.
    public func resultFiles(cell: String, upTo attempt: Int) throws -> [CellFileRecord] {
        try read("read result files of cell \(cell) up to attempt \(attempt)") { db in
            try CellFileRecord.fetchAll(
                db,
                sql: """
                    SELECT f.* FROM cell_files f
                    WHERE f.cell = ? AND f.attempt = (
                        SELECT MAX(g.attempt) FROM cell_files g WHERE g.cell = f.cell AND g.name = f.name AND g.attempt <= ?)
                    ORDER BY f.name
                    """, arguments: [cell, attempt])
        }
    }

    /// Every file named `name` that any attempt of the cell produced, newest epoch first (then newest attempt).
    public func cellFiles(cell: String, named name: String) throws -> [CellFileRecord] {
        try read("read \(name) files of cell \(cell)") { db in
            try CellFileRecord.filter(Column("cell") == cell && Column("name") == name)
                .order(Column("epoch").desc, Column("attempt").desc).fetchAll(db)
        }
    }

    // MARK: - Workers

    /// Inserts or updates a worker. An update keeps the stored `firstSeen` and takes every other field from `worker`.
    public func upsertWorker(_ worker: WorkerRecord) throws {
        try write("record worker \(worker.name)") { db in
            if var stored = try WorkerRecord.fetchOne(db, key: worker.name) {
                let firstSeen = stored.firstSeen
                stored = worker
                stored.firstSeen = firstSeen
                try stored.update(db)
            } else {
                try worker.insert(db)
            }
        }
    }

    /// Every worker ever seen, by name.
    public func workers() throws -> [WorkerRecord] {
        try read("read workers") { try Ledger.allWorkers($0) }
    }

    static func allWorkers(_ db: Database) throws -> [WorkerRecord] {
        try WorkerRecord.order(Column("name")).fetchAll(db)
    }

    // MARK: - Counters

    /// Every counter by name.
    public func counters() throws -> [String: Int] {
        try read("read counters") { try Ledger.allCounters($0) }
    }

    /// Adds `delta` to counter `name` (created at 0) and returns its new value.
    @discardableResult
    public func addToCounter(_ name: String, _ delta: Int) throws -> Int {
        try write("add to counter \(name)") { db in
            try db.execute(
                sql:
                    "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                arguments: [name, delta])
            return try Int.fetchOne(db, sql: "SELECT value FROM counters WHERE name = ?", arguments: [name]) ?? delta
        }
    }

    static func allCounters(_ db: Database) throws -> [String: Int] {
        let rows = try Row.fetchAll(db, sql: "SELECT name, value FROM counters")
        var counters: [String: Int] = [:]
        for row in rows {
            counters[try row.decode(String.self, forColumn: "name")] = try row.decode(Int.self, forColumn: "value")
        }
        return counters
    }
}
