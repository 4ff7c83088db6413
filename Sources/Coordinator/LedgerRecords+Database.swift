// LedgerRecords+Database: how each ledger record maps onto its table's snake_case columns.
import GRDB

extension CellState: DatabaseValueConvertible {}

/// A ledger record whose columns are listed once, in `mapColumns`, for both directions: reading a row builds the
/// record through it, and writing the record stores the same fields under the same names.
protocol LedgerTableRecord: FetchableRecord, PersistableRecord {
    /// The record built column by column: each argument of its initializer is one `columns(name, field)` call.
    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self
}

extension LedgerTableRecord {
    public init(row: Row) throws {
        self = try Self.mapColumns(LedgerColumns(reading: row))
    }

    public func encode(to container: inout PersistenceContainer) {
        let columns = LedgerColumns(writing: self, into: container)
        do {
            _ = try Self.mapColumns(columns)
        } catch {
            preconditionFailure("writing a \(Self.self) reads no row, so cannot fail: \(error)")
        }
        if let written = columns.container { container = written }
    }
}

/// One pass over a record's columns: reading each from a row, or writing each of the record's fields into a
/// persistence container (in the order `mapColumns` lists them).
final class LedgerColumns<Record> {
    private enum Direction {
        case reading(Row)
        case writing(Record)
    }

    private let direction: Direction
    /// What writing stored so far (nil when reading).
    private(set) var container: PersistenceContainer?

    init(reading row: Row) {
        direction = .reading(row)
    }

    init(writing record: Record, into container: PersistenceContainer) {
        direction = .writing(record)
        self.container = container
    }

    /// The field stored as is in column `name`.
    func callAsFunction<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _ name: String, _ field: KeyPath<Record, Value>
    ) throws -> Value {
        try column(name, field, stored: \.databaseValue) { try $0.decode(Value.self, forColumn: $1) }
    }

    /// The field stored as is in column `name` (a type SQLite cannot hand over directly, e.g. a `RawRepresentable`).
    func callAsFunction<Value: DatabaseValueConvertible>(
        _ name: String, _ field: KeyPath<Record, Value>
    ) throws -> Value {
        try column(name, field, stored: \.databaseValue) { try $0.decode(Value.self, forColumn: $1) }
    }

    /// The field stored in another form: `stored` gives the column's value, `read` the field's from a row.
    func callAsFunction<Value>(
        _ name: String, _ field: KeyPath<Record, Value>, stored: (Value) -> DatabaseValue,
        read: (Row, String) throws -> Value
    ) throws -> Value {
        try column(name, field, stored: stored, read: read)
    }

    private func column<Value>(
        _ name: String, _ field: KeyPath<Record, Value>, stored: (Value) -> DatabaseValue,
        read: (Row, String) throws -> Value
    ) throws -> Value {
        switch direction {
        case .reading(let row):
            return try read(row, name)
        case .writing(let record):
            let value = record[keyPath: field]
            container?[name] = stored(value)
            return value
        }
    }
}

extension CellRecord: LedgerTableRecord {
    public static let databaseTableName = "cells"

    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self {
        Self(
            id: try columns("id", \.id),
            variant: try columns("variant", \.variant),
            seed: try columns(
                "seed", \.seed, stored: { Int64(bitPattern: $0).databaseValue },
                read: { UInt64(bitPattern: try $0.decode(Int64.self, forColumn: $1)) }),
            stage: try columns("stage", \.stage),
            configJSON: try columns("config_json", \.configJSON),
            dependsOn: try columns("depends_on", \.dependsOn),
            position: try columns("position", \.position),
            epochs: try columns("epochs", \.epochs),
            state: try columns("state", \.state),
            attempt: try columns("attempt", \.attempt),
            failures: try columns("failures", \.failures),
            worker: try columns("worker", \.worker),
            epochsDone: try columns("epochs_done", \.epochsDone),
            bestValMacroF1: try columns("best_val_macro_f1", \.bestValMacroF1),
            resumeSHA256: try columns("resume_sha256", \.resumeSHA256),
            resumeEpoch: try columns("resume_epoch", \.resumeEpoch),
            reason: try columns("reason", \.reason),
            summaryJSON: try columns("summary_json", \.summaryJSON),
            updatedAt: try columns("updated_at", \.updatedAt))
    }
}

extension AttemptRecord: LedgerTableRecord {
    public static let databaseTableName = "attempts"

    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self {
        Self(
            cell: try columns("cell", \.cell),
            attempt: try columns("attempt", \.attempt),
            worker: try columns("worker", \.worker),
            session: try columns("session", \.session),
            startedAt: try columns("started_at", \.startedAt),
            endedAt: try columns("ended_at", \.endedAt),
            outcome: try columns("outcome", \.outcome),
            reason: try columns("reason", \.reason))
    }
}

extension MetricsRecord: LedgerTableRecord {
    public static let databaseTableName = "metrics"

    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self {
        Self(
            cell: try columns("cell", \.cell),
            attempt: try columns("attempt", \.attempt),
            seq: try columns("seq", \.seq),
            epoch: try columns("epoch", \.epoch),
            valMacroF1: try columns("val_macro_f1", \.valMacroF1, stored: encodeMetric, read: decodeMetric),
            record: try columns("record", \.record),
            receivedAt: try columns("received_at", \.receivedAt))
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

extension ArtifactRecord: LedgerTableRecord {
    public static let databaseTableName = "artifacts"

    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self {
        Self(
            sha256: try columns("sha256", \.sha256),
            size: try columns("size", \.size),
            path: try columns("path", \.path),
            addedAt: try columns("added_at", \.addedAt))
    }
}

extension CellFileRecord: LedgerTableRecord {
    public static let databaseTableName = "cell_files"

    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self {
        Self(
            cell: try columns("cell", \.cell),
            attempt: try columns("attempt", \.attempt),
            name: try columns("name", \.name),
            epoch: try columns("epoch", \.epoch),
            sha256: try columns("sha256", \.sha256))
    }
}

extension WorkerRecord: LedgerTableRecord {
    public static let databaseTableName = "workers"

    static func mapColumns(_ columns: LedgerColumns<Self>) throws -> Self {
        Self(
            name: try columns("name", \.name),
            incarnation: try columns("incarnation", \.incarnation),
            host: try columns("host", \.host),
            threads: try columns("threads", \.threads),
            gpu: try columns("gpu", \.gpu),
            slots: try columns("slots", \.slots),
            codeVersion: try columns("code_version", \.codeVersion),
            blasCore: try columns("blas_core", \.blasCore),
            firstSeen: try columns("first_seen", \.firstSeen),
            lastSeen: try columns("last_seen", \.lastSeen),
            gpus: try columns(
                "gpus", \.gpus, stored: { $0.map { $0.map(String.init).joined(separator: ",") }.databaseValue },
                read: { row, name in
                    let text: String? = try row.decode(forColumn: name)
                    return text.map { $0.split(separator: ",").compactMap { Int($0) } }
                }))
    }
}
