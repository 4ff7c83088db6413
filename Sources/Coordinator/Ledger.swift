// Ledger: the coordinator's durable state (an SQLite file in WAL mode in the state directory), opened for writing or reading.
import Foundation
import GRDB

/// The coordinator's durable record of a sweep: workers, cells, attempts, metrics, artifacts and counters, in
/// `DIR/ledger.sqlite`. The file is in WAL mode with `synchronous=FULL`: every method is one transaction, and a
/// transaction that returned is on disk, so the state survives the process being killed at any point. One process
/// writes (the coordinator); others may read at the same time through `init(readingDirectory:)`.
public final class Ledger: Sendable {
    /// The name of the ledger file inside the state directory.
    public static let fileName = "ledger.sqlite"
    /// The schema version this build writes and reads.
    public static let schemaVersion = LedgerSchema.version

    /// The ledger file's path.
    public let path: String
    /// Whether this ledger was opened with `init(readingDirectory:)`.
    public let isReadOnly: Bool
    let queue: DatabaseQueue

    /// Opens (creating if needed) the ledger of state directory `directory`, creating the directory too, and brings
    /// its schema up to date. Throws `LedgerError` if the file is not a ledger or was written by a newer build.
    public init(directory: String) throws {
        let path = Ledger.filePath(in: directory)
        self.path = path
        isReadOnly = false
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(10)
            configuration.label = "ledger"
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode == "wal" else {
                    throw LedgerRefusal(
                        .database, "could not switch to WAL mode (journal mode is \(mode ?? "unknown"))")
                }
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try queue.read { try Ledger.refuseDamage($0, path: path) }
            let migrator = LedgerSchema.migrator
            if try queue.read({ try migrator.hasBeenSuperseded($0) }) {
                throw LedgerRefusal(
                    .schema, "written by a newer version of ablate (schema above version \(LedgerSchema.version))")
            }
            try migrator.migrate(queue)
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "open")
        }
    }

    /// Opens the existing ledger of state directory `directory` read-only, e.g. for `ablate status` while the
    /// coordinator runs. Each read sees the transactions committed before it. Throws `LedgerError` (kind `missing`)
    /// when there is no ledger file.
    public init(readingDirectory directory: String) throws {
        let path = Ledger.filePath(in: directory)
        self.path = path
        isReadOnly = true
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(
                .missing, path: path, operation: "open for reading",
                message: "no such file; is \(directory) a coordinator state directory?")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            configuration.label = "ledger-reader"
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let migrator = LedgerSchema.migrator
            try queue.read { try Ledger.refuseDamage($0, path: path) }
            try queue.read { db in
                if try migrator.hasBeenSuperseded(db) {
                    throw LedgerRefusal(
                        .schema, "written by a newer version of ablate (schema above version \(LedgerSchema.version))")
                }
                if try !migrator.hasCompletedMigrations(db) {
                    throw LedgerRefusal(
                        .schema,
                        "schema is older than version \(LedgerSchema.version) or not created yet; `ablate ledger upgrade --state \(directory)` (or starting its coordinator) upgrades it"
                    )
                }
            }
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: "open for reading")
        }
    }

    /// Closes the database connection; any later call throws. Also happens when the ledger is released.
    public func close() throws {
        do { try queue.close() } catch { throw LedgerError(wrapping: error, path: path, operation: "close") }
    }

    /// `directory/ledger.sqlite`.
    public static func filePath(in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
    }

    // MARK: - Transactions

    /// Runs `body` in one write transaction (IMMEDIATE); any error rolls it back and surfaces as `LedgerError`.
    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            guard !isReadOnly else { throw LedgerRefusal(.invalid, "the ledger is open read-only") }
            return try queue.writeWithoutTransaction { db in
                try Ledger.requireOpen(db)
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw LedgerRefusal(.database, "the transaction returned nothing") }
                return result
            }
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: operation())
        }
    }

    /// Runs `body` in one read transaction, which sees a single committed state.
    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                try Ledger.requireOpen(db)
                return try db.readOnly {
                    var result: T?
                    try db.inTransaction(.deferred) {
                        result = try body(db)
                        return .commit
                    }
                    guard let result else { throw LedgerRefusal(.database, "the transaction returned nothing") }
                    return result
                }
            }
        } catch {
            throw LedgerError(wrapping: error, path: path, operation: operation())
        }
    }

    /// Throws `damaged` when `PRAGMA quick_check` finds a problem (a page of any table or index that is malformed):
    /// a damaged ledger is refused at open instead of read as if rows were missing.
    static func refuseDamage(_ db: Database, path: String) throws {
        if let first = try problems(db, full: false).first {
            throw LedgerRefusal(.damaged, "the database is damaged (quick_check: \(first)); \(recoveryHint(path))")
        }
    }

    /// Throws once `close()` has closed the connection (using it then would be undefined behaviour in SQLite).
    private static func requireOpen(_ db: Database) throws {
        guard db.sqliteConnection != nil else { throw LedgerRefusal(.invalid, "the ledger is closed") }
    }
}
