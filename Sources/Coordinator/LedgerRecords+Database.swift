// LedgerRecords+Database: how each ledger record maps onto its table's snake_case columns.
import GRDB

extension CellState: DatabaseValueConvertible {}

extension CellRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "cells"

    public init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"),
            variant: try row.decode(forColumn: "variant"),
            seed: UInt64(bitPattern: try row.decode(Int64.self, forColumn: "seed")),
            stage: try row.decode(forColumn: "stage"),
            configJSON: try row.decode(forColumn: "config_json"),
            dependsOn: try row.decode(forColumn: "depends_on"),
            position: try row.decode(forColumn: "position"),
            epochs: try row.decode(forColumn: "epochs"),
            state: try row.decode(forColumn: "state"),
            attempt: try row.decode(forColumn: "attempt"),
            failures: try row.decode(forColumn: "failures"),
            worker: try row.decode(forColumn: "worker"),
            epochsDone: try row.decode(forColumn: "epochs_done"),
            bestValMacroF1: try row.decode(forColumn: "best_val_macro_f1"),
            resumeSHA256: try row.decode(forColumn: "resume_sha256"),
            resumeEpoch: try row.decode(forColumn: "resume_epoch"),
            reason: try row.decode(forColumn: "reason"),
            summaryJSON: try row.decode(forColumn: "summary_json"),
            updatedAt: try row.decode(forColumn: "updated_at"))
    }

    public func encode(to container: inout PersistenceContainer) {
        container["id"] = id
        container["variant"] = variant
        container["seed"] = Int64(bitPattern: seed)
        container["stage"] = stage
        container["config_json"] = configJSON
        container["depends_on"] = dependsOn
        container["position"] = position
        container["epochs"] = epochs
        container["state"] = state
        container["attempt"] = attempt
        container["failures"] = failures
        container["worker"] = worker
        container["epochs_done"] = epochsDone
        container["best_val_macro_f1"] = bestValMacroF1
        container["resume_sha256"] = resumeSHA256
        container["resume_epoch"] = resumeEpoch
        container["reason"] = reason
        container["summary_json"] = summaryJSON
        container["updated_at"] = updatedAt
    }
}

extension AttemptRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "attempts"

    public init(row: Row) throws {
        self.init(
            cell: try row.decode(forColumn: "cell"),
            attempt: try row.decode(forColumn: "attempt"),
            worker: try row.decode(forColumn: "worker"),
            session: try row.decode(forColumn: "session"),
            startedAt: try row.decode(forColumn: "started_at"),
            endedAt: try row.decode(forColumn: "ended_at"),
            outcome: try row.decode(forColumn: "outcome"),
            reason: try row.decode(forColumn: "reason"))
    }

    public func encode(to container: inout PersistenceContainer) {
        container["cell"] = cell
        container["attempt"] = attempt
        container["worker"] = worker
        container["session"] = session
        container["started_at"] = startedAt
        container["ended_at"] = endedAt
        container["outcome"] = outcome
        container["reason"] = reason
    }
}

extension MetricsRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metrics"

    public init(row: Row) throws {
        self.init(
            cell: try row.decode(forColumn: "cell"),
            attempt: try row.decode(forColumn: "attempt"),
            seq: try row.decode(forColumn: "seq"),
            epoch: try row.decode(forColumn: "epoch"),
            valMacroF1: try Self.decodeMetric(row, "val_macro_f1"),
            record: try row.decode(forColumn: "record"),
            receivedAt: try row.decode(forColumn: "received_at"))
    }

    public func encode(to container: inout PersistenceContainer) {
        container["cell"] = cell
        container["attempt"] = attempt
        container["seq"] = seq
        container["epoch"] = epoch
        container["val_macro_f1"] = Self.encodeMetric(valMacroF1)
        container["record"] = record
        container["received_at"] = receivedAt
    }

    /// SQLite turns a NaN REAL into NULL, so a NaN is stored as the text `NaN` (±infinity are REALs already): a
    /// non-finite metric is stored as such, never dropped.
    static func encodeMetric(_ value: Double) -> DatabaseValue {
        value.isNaN ? "NaN".databaseValue : value.databaseValue
    }

    static func decodeMetric(_ row: Row, _ column: String) throws -> Double {
        let value: DatabaseValue = row[column]
        if case .string("NaN") = value.storage { return .nan }
        return try row.decode(forColumn: column)
    }
}

extension ArtifactRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "artifacts"

    public init(row: Row) throws {
        self.init(
            sha256: try row.decode(forColumn: "sha256"),
            size: try row.decode(forColumn: "size"),
            path: try row.decode(forColumn: "path"),
            addedAt: try row.decode(forColumn: "added_at"))
    }

    public func encode(to container: inout PersistenceContainer) {
        container["sha256"] = sha256
        container["size"] = size
        container["path"] = path
        container["added_at"] = addedAt
    }
}

extension CellFileRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "cell_files"

    public init(row: Row) throws {
        self.init(
            cell: try row.decode(forColumn: "cell"),
            attempt: try row.decode(forColumn: "attempt"),
            name: try row.decode(forColumn: "name"),
            epoch: try row.decode(forColumn: "epoch"),
            sha256: try row.decode(forColumn: "sha256"))
    }

    public func encode(to container: inout PersistenceContainer) {
        container["cell"] = cell
        container["attempt"] = attempt
        container["name"] = name
        container["epoch"] = epoch
        container["sha256"] = sha256
    }
}

extension WorkerRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "workers"

    public init(row: Row) throws {
        self.init(
            name: try row.decode(forColumn: "name"),
            incarnation: try row.decode(forColumn: "incarnation"),
            host: try row.decode(forColumn: "host"),
            threads: try row.decode(forColumn: "threads"),
            gpu: try row.decode(forColumn: "gpu"),
            slots: try row.decode(forColumn: "slots"),
            codeVersion: try row.decode(forColumn: "code_version"),
            blasCore: try row.decode(forColumn: "blas_core"),
            firstSeen: try row.decode(forColumn: "first_seen"),
            lastSeen: try row.decode(forColumn: "last_seen"))
    }

    public func encode(to container: inout PersistenceContainer) {
        container["name"] = name
        container["incarnation"] = incarnation
        container["host"] = host
        container["threads"] = threads
        container["gpu"] = gpu
        container["slots"] = slots
        container["code_version"] = codeVersion
        container["blas_core"] = blasCore
        container["first_seen"] = firstSeen
        container["last_seen"] = lastSeen
    }
}
