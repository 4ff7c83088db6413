// LedgerError: a failed ledger operation, naming the ledger file and what was being done.
import GRDB

/// A ledger operation that failed. Its description is one line: `ledger PATH: OPERATION: MESSAGE`.
public struct LedgerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure, so callers can tell refusals apart from database trouble.
    public enum Kind: String, Sendable, Equatable {
        /// No ledger where one was expected (read-only open of a missing file).
        case missing
        /// The state directory belongs to another sweep.
        case otherSweep
        /// The ledger's schema is not the one this build knows.
        case schema
        /// The cell is not in the ledger.
        case unknownCell
        /// The cell is already done; it cannot change any more.
        case alreadyDone
        /// Marking done with an attempt other than the cell's current one.
        case staleAttempt
        /// The request contradicts itself or the stored rows (e.g. an attempt for another cell).
        case invalid
        /// The file is damaged (a failed quick_check or integrity check, or SQLite found a malformed page).
        case damaged
        /// The disk (or a quota) is full: SQLite could not write (`SQLITE_FULL`); nothing of the transaction was kept.
        case full
        /// SQLite or GRDB reported an error (I/O, constraint…).
        case database
    }

    public var kind: Kind
    /// The ledger file.
    public var path: String
    /// What was being done, e.g. `update cell 3fa2…`.
    public var operation: String
    public var message: String

    public init(_ kind: Kind, path: String, operation: String, message: String) {
        self.kind = kind
        self.path = path
        self.operation = operation
        self.message = message
    }

    public var description: String { "ledger \(path): \(operation): \(message)" }
}

/// A refusal raised inside a transaction; the ledger adds its path and operation when it surfaces.
struct LedgerRefusal: Error {
    var kind: LedgerError.Kind
    var message: String

    init(_ kind: LedgerError.Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

extension LedgerError {
    /// Wraps any error thrown by a ledger operation.
    init(wrapping error: any Error, path: String, operation: String) {
        switch error {
        case let error as LedgerError:
            self = error
        case let refusal as LedgerRefusal:
            self.init(refusal.kind, path: path, operation: operation, message: refusal.message)
        case let error as DatabaseError:
            let detail = error.message ?? "\(error.resultCode)"
            if error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
                self.init(
                    .damaged, path: path, operation: operation,
                    message:
                        "the database is damaged (SQLite error \(error.resultCode.rawValue): \(detail)); \(Ledger.recoveryHint(path))"
                )
            } else if error.resultCode == .SQLITE_FULL {
                self.init(
                    .full, path: path, operation: operation,
                    message: "the disk is full (SQLite error \(error.resultCode.rawValue): \(detail))")
            } else {
                self.init(
                    .database, path: path, operation: operation,
                    message: "SQLite error \(error.resultCode.rawValue): \(detail)")
            }
        default:
            let text = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            self.init(.database, path: path, operation: operation, message: text)
        }
    }
}
