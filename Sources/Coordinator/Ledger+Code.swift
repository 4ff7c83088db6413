// Ledger+Code: each command cell's code record (files, hash, git commit and dirty flag), and cells planned before code was hashed.
import GRDB

/// A cell's code as the ledger knows it.
public enum LedgerCode: Sendable, Equatable {
    /// The cell has this code (its hash is part of the cell's id).
    case known(CodeRecord)
    /// The cell was planned by a release that did not hash code (its row was added by the ledger's schema 3
    /// migration) and its sweep was not planned with code since: whatever code it ran is unknown.
    case unknown
}

extension Ledger {
    /// Records the code of planned cells, by cell id (a cell not yet in `cells` — an adaptive sweep's later cell —
    /// may have its row first). A done cell keeps the record it has (the code
    /// it ran with); any other cell gets `record` (the commit and dirty flag of this planning).
    public func setCode(_ records: [String: CodeRecord]) throws {
        guard !records.isEmpty else { return }
        try write("record the code of \(records.count) cells") { db in
            for (cell, record) in records.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: """
                        INSERT INTO cell_code (cell, sha256, record) VALUES (?, ?, ?)
                        ON CONFLICT (cell) DO UPDATE SET sha256 = excluded.sha256, record = excluded.record
                        WHERE COALESCE((SELECT state FROM cells WHERE id = excluded.cell), '') != 'done'
                        """,
                    arguments: [cell, record.sha256, record.json])
            }
        }
    }

    /// Records `records` (by cell id) as the assumed code of cells whose code is unknown (rows without a record:
    /// cells planned before code was hashed); other cells are left alone.
    public func assumeCode(_ records: [String: CodeRecord]) throws {
        guard !records.isEmpty else { return }
        try write("record the assumed code of \(records.count) cells") { db in
            for (cell, record) in records.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: "UPDATE cell_code SET sha256 = ?, record = ? WHERE cell = ? AND sha256 IS NULL",
                    arguments: [record.sha256, record.json, cell])
            }
        }
    }

    /// The code of every cell that has a row: `.known` with its record, or `.unknown` for a cell planned before code
    /// was hashed. A cell without a row has no code (the native trainer, a command without code files, `code: []`).
    public func codes() throws -> [String: LedgerCode] {
        try read("read cells' code") { db in
            var codes: [String: LedgerCode] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT cell, record FROM cell_code") {
                let cell: String = row["cell"]
                let text: String? = row["record"]
                if let text {
                    guard let record = CodeRecord(json: text) else {
                        throw LedgerRefusal(.database, "the code record of cell \(cell) is not JSON of a code record")
                    }
                    codes[cell] = .known(record)
                } else {
                    codes[cell] = .unknown
                }
            }
            return codes
        }
    }
}
