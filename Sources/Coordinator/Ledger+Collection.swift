// Ledger+Collection: superseded checkpoints (no longer any attempt's file nor any cell's resume point) found and dropped.
import GRDB

extension Ledger {
    /// Removes, in one transaction, the rows of received artifacts (paths under `artifacts/`) that no attempt's
    /// file list names and no cell resumes from: checkpoints replaced by a later epoch's. Registered files outside
    /// the store (the dataset, a given stage-1 checkpoint) are never touched. Returns the removed rows; deleting
    /// their files is the caller's (a crash before that leaves files with no row, which `orphanArtifactFiles` finds).
    public func collectSupersededArtifacts() throws -> [ArtifactRecord] {
        try write("collect superseded artifacts") { db in
            let garbage = try ArtifactRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM artifacts
                    WHERE path LIKE 'artifacts/%'
                      AND sha256 NOT IN (SELECT sha256 FROM cell_files)
                      AND sha256 NOT IN (SELECT resume_sha256 FROM cells WHERE resume_sha256 IS NOT NULL)
                    ORDER BY sha256
                    """)
            for record in garbage { try record.delete(db) }
            return garbage
        }
    }

    /// Names in `names` (files of the `artifacts/` directory) that no artifact row claims.
    public func orphanArtifactFiles(_ names: [String]) throws -> [String] {
        try read("find orphan artifact files") { db in
            let known = Set(try String.fetchAll(db, sql: "SELECT path FROM artifacts WHERE path LIKE 'artifacts/%'"))
            return names.filter { !known.contains("artifacts/\($0)") }
        }
    }
}
