// Ledger+Inputs: each command cell's inputs (their identity JSON), recorded when it is planned.
import GRDB

extension Ledger {
    /// Records the inputs of planned cells (identity JSON by cell id; a cell may not be in `cells` yet). A done cell
    /// keeps the inputs it ran with.
    public func setInputs(_ inputs: [String: String]) throws {
        guard !inputs.isEmpty else { return }
        try write("record the inputs of \(inputs.count) cells") { db in
            for (cell, json) in inputs.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: """
                        INSERT INTO cell_inputs (cell, inputs) VALUES (?, ?)
                        ON CONFLICT (cell) DO UPDATE SET inputs = excluded.inputs
                        WHERE COALESCE((SELECT state FROM cells WHERE id = excluded.cell), '') != 'done'
                        """,
                    arguments: [cell, json])
            }
        }
    }

    /// The inputs (identity JSON) of every cell that has some, by cell id.
    public func inputs() throws -> [String: String] {
        try read("read cells' inputs") { db in
            var inputs: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT cell, inputs FROM cell_inputs") {
                let cell: String = row["cell"]
                let json: String = row["inputs"]
                inputs[cell] = json
            }
            return inputs
        }
    }
}
