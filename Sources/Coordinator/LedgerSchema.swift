// LedgerSchema: the ledger's tables, created and upgraded by versioned migrations.
import GRDB

/// The ledger's schema: one migration per version, applied in order when a writer opens the ledger.
enum LedgerSchema {
    /// Schema version written by the newest migration (also stored in `meta.schema_version`).
    static let version = 6

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: version1)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: version2)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: version3)
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: version4)
        }
        migrator.registerMigration("v5") { db in
            try db.execute(sql: version5)
        }
        migrator.registerMigration("v6") { db in
            try db.execute(sql: version6)
        }
        return migrator
    }

    /// Version 2: `cells.planned` marks the cells of the sweep as last submitted (1) apart from cells of earlier
    /// versions of it that a changed variant replaced (0); status and reports show the planned ones.
    private static let version2 = """
        ALTER TABLE cells ADD COLUMN planned INTEGER NOT NULL DEFAULT 1 CHECK (planned IN (0, 1));
        UPDATE meta SET schema_version = 2;
        """

    /// Version 3: `cell_code` holds the code of each command cell that has some (`CodeRecord` as JSON, its hash
    /// apart), written when the cell is planned — also for an adaptive sweep's later cells before they join `cells`,
    /// so the column references no cell. The cells of a ledger written before get a row without code (`sha256` and
    /// `record` NULL): planned before code was hashed, their code is unknown (`Ledger+Code.swift`).
    private static let version3 = """
        CREATE TABLE cell_code (
            cell TEXT PRIMARY KEY NOT NULL CHECK (length(cell) = 64),
            sha256 TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
            record TEXT,
            CHECK ((sha256 IS NULL) = (record IS NULL))
        );
        INSERT INTO cell_code (cell) SELECT id FROM cells;
        UPDATE meta SET schema_version = 3;
        """

    /// Version 4: `workers.gpus`, the GPUs a worker's HELLO reported (`0,1`; NULL for none), shown by `ablate status`.
    private static let version4 = """
        ALTER TABLE workers ADD COLUMN gpus TEXT;
        UPDATE meta SET schema_version = 4;
        """

    /// Version 5: `cell_inputs` holds the inputs of each command cell that has some (their identity JSON,
    /// `CellInput.identityJSON`), written when the cell is planned, so that planning again can say which variants'
    /// inputs changed (`InputPlanning`). Like `cell_code`, a row may come before its cell.
    private static let version5 = """
        CREATE TABLE cell_inputs (
            cell TEXT PRIMARY KEY NOT NULL CHECK (length(cell) = 64),
            inputs TEXT NOT NULL
        );
        UPDATE meta SET schema_version = 5;
        """

    /// Version 6: what clients changed in a running sweep (`Ledger+Control.swift`). `cancelled_variants` holds the
    /// variants whose cells are not assigned until resumed (`ablate cancel`); `extension_seeds` the seeds added to a
    /// variant after its sweep was submitted (`ablate extend`; the decimal seed as text, since a seed may pass 2⁶³),
    /// planned again with the sweep at every start.
    private static let version6 = """
        CREATE TABLE cancelled_variants (
            variant TEXT PRIMARY KEY NOT NULL,
            cancelled_at REAL NOT NULL
        );
        CREATE TABLE extension_seeds (
            variant TEXT NOT NULL,
            seed TEXT NOT NULL,
            added_at REAL NOT NULL,
            PRIMARY KEY (variant, seed)
        );
        UPDATE meta SET schema_version = 6;
        """

    private static let version1 = """
        CREATE TABLE meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            schema_version INTEGER NOT NULL,
            sweep_name TEXT,
            sweep_text TEXT,
            incarnation INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO meta (id, schema_version) VALUES (1, 1);

        CREATE TABLE cells (
            id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 64),
            variant TEXT NOT NULL,
            seed INTEGER NOT NULL,
            stage TEXT NOT NULL,
            config_json TEXT NOT NULL,
            depends_on TEXT REFERENCES cells(id) DEFERRABLE INITIALLY DEFERRED,
            position INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
            attempt INTEGER NOT NULL CHECK (attempt >= 0),
            failures INTEGER NOT NULL CHECK (failures >= 0),
            worker TEXT,
            epochs_done INTEGER NOT NULL,
            epochs INTEGER NOT NULL,
            best_val_macro_f1 REAL,
            resume_sha256 TEXT,
            resume_epoch INTEGER NOT NULL,
            reason TEXT,
            summary_json TEXT,
            updated_at REAL NOT NULL
        );
        CREATE INDEX cells_position ON cells(position);

        CREATE TABLE attempts (
            cell TEXT NOT NULL REFERENCES cells(id),
            attempt INTEGER NOT NULL CHECK (attempt >= 1),
            worker TEXT NOT NULL,
            session TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            outcome TEXT CHECK (outcome IN ('done', 'failed', 'lost', 'cancelled')),
            reason TEXT,
            PRIMARY KEY (cell, attempt)
        );

        CREATE TABLE metrics (
            cell TEXT NOT NULL REFERENCES cells(id),
            attempt INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            val_macro_f1 REAL NOT NULL,
            record TEXT NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (cell, attempt, seq)
        );

        CREATE TABLE artifacts (
            sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
            size INTEGER NOT NULL CHECK (size >= 0),
            path TEXT NOT NULL,
            added_at REAL NOT NULL
        );

        CREATE TABLE cell_files (
            cell TEXT NOT NULL REFERENCES cells(id),
            attempt INTEGER NOT NULL,
            name TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            sha256 TEXT NOT NULL REFERENCES artifacts(sha256),
            PRIMARY KEY (cell, attempt, name)
        );

        CREATE TABLE workers (
            name TEXT PRIMARY KEY NOT NULL,
            incarnation TEXT NOT NULL,
            host TEXT NOT NULL,
            threads INTEGER NOT NULL,
            gpu INTEGER,
            slots INTEGER NOT NULL,
            code_version TEXT NOT NULL,
            blas_core TEXT NOT NULL,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL
        );

        CREATE TABLE counters (
            name TEXT PRIMARY KEY NOT NULL,
            value INTEGER NOT NULL
        );
        """
}
