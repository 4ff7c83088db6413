// LedgerIntegrityTests: a damaged page is refused at open (both ways), the full check finds it, the backup restores it.
import CoordinatorKit
import Foundation
import GRDB
import TestSupport
import XCTest

private typealias F = LedgerFixtures

final class LedgerIntegrityTests: XCTestCase {
    /// A ledger with one cell, an attempt and 400 metrics rows (several pages), closed so the WAL is checkpointed.
    private func makeLedger(_ dir: TemporaryDirectory, backUp: Bool) throws -> CellRecord {
        let ledger = try Ledger(directory: dir.path)
        let cell = F.cell("a", position: 0)
        try ledger.addCells([cell])
        try ledger.update(F.running(cell, attempt: 1), startingAttempt: F.attempt(cell, 1))
        for seq in 1...400 { try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: seq, f1: Double(seq) / 1000)) }
        if backUp { try ledger.backup() }
        try ledger.close()
        return cell
    }

    /// Overwrites page `page` (1-based) of the file with a byte pattern that is no valid b-tree page.
    private func damage(_ path: String, page: Int, pageSize: Int) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64((page - 1) * pageSize))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: pageSize))
        try handle.synchronize()
    }

    /// The root page of `table` and the file's page size, read with plain SQLite.
    private func rootPage(_ path: String, table: String) throws -> (page: Int, pageSize: Int) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            (
                try XCTUnwrap(
                    try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = ?", arguments: [table])),
                try XCTUnwrap(try Int.fetchOne(db, sql: "PRAGMA page_size"))
            )
        }
    }

    func testADamagedPageOfMetricsOrAttemptsIsRefusedAtOpenAndRecoveredFromTheBackup() throws {
        for table in ["metrics", "attempts"] {
            let dir = TemporaryDirectory("integrity")
            let cell = try makeLedger(dir, backUp: true)
            let path = Ledger.filePath(in: dir.path)
            XCTAssertEqual(try Ledger(readingDirectory: dir.path).check(), [], "sound before the damage")
            let (page, pageSize) = try rootPage(path, table: table)
            try damage(path, page: page, pageSize: pageSize)

            for open in [{ _ = try Ledger(directory: dir.path) }, { _ = try Ledger(readingDirectory: dir.path) }] {
                XCTAssertThrowsError(try open(), table) { error in
                    let ledgerError = error as? LedgerError
                    XCTAssertEqual(ledgerError?.kind, .damaged, "\(table): \(error)")
                    XCTAssertTrue("\(error)".contains("ablate ledger recover --state"), "\(error)")
                    XCTAssertFalse("\(error)".contains("\n"), "one line")
                }
            }
            let recovery = try Ledger.recover(directory: dir.path)
            XCTAssertTrue(FileManager.default.fileExists(atPath: recovery.damagedCopy), "the damaged file is kept")
            for suffix in ["-wal", "-shm"] {
                XCTAssertFalse(
                    FileManager.default.fileExists(atPath: "\(dir.path)/\(Ledger.backupFileName)\(suffix)"),
                    "no side file of the backup")
            }
            let restored = try Ledger(directory: dir.path)
            XCTAssertEqual(try restored.check(), [])
            XCTAssertEqual(try restored.metrics(cell: cell.id, attempt: 1).count, 400, table)
            XCTAssertEqual(try restored.attempts(cell: cell.id).count, 1, table)
        }
    }

    /// A bogus free-block offset in a page header: quick_check's report spans lines in SQLite; the refusal and the
    /// full check's problems are one line each, and `check(directory:)` lists them although the ledger cannot open.
    func testADamagedPageHeaderIsReportedOnOneLineAndListedByTheFullCheck() throws {
        let dir = TemporaryDirectory("integrity")
        _ = try makeLedger(dir, backUp: false)
        let path = Ledger.filePath(in: dir.path)
        let (page, pageSize) = try rootPage(path, table: "attempts")
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64((page - 1) * pageSize + 1))
        try handle.write(contentsOf: Data([0xFF, 0xF0]))
        try handle.close()
        XCTAssertThrowsError(try Ledger(readingDirectory: dir.path)) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .damaged, "\(error)")
            XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)")
        }
        let problems = try Ledger.check(directory: dir.path)
        XCTAssertFalse(problems.isEmpty)
        for problem in problems { XCTAssertFalse(problem.contains("\n") || problem.hasPrefix("***"), problem) }
    }

    func testRecoveryWithoutABackupOrFromADamagedBackupIsRefused() throws {
        let dir = TemporaryDirectory("integrity")
        _ = try makeLedger(dir, backUp: false)
        XCTAssertThrowsError(try Ledger.recover(directory: dir.path)) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .missing, "\(error)")
        }
        let other = TemporaryDirectory("integrity")
        _ = try makeLedger(other, backUp: true)
        let backup = "\(other.path)/\(Ledger.backupFileName)"
        let (page, pageSize) = try rootPage(backup, table: "metrics")
        try damage(backup, page: page, pageSize: pageSize)
        XCTAssertThrowsError(try Ledger.recover(directory: other.path)) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .damaged, "\(error)")
        }
        XCTAssertNoThrow(try Ledger(directory: other.path), "a refused recovery leaves the sound ledger in place")
    }
}
