// LedgerDurabilityTests: WAL mode, readers beside a live writer, isolation from uncommitted work, and SIGKILL mid-stream.
import CoordinatorKit
import Foundation
import GRDB
import TestSupport
import XCTest

final class LedgerDurabilityTests: XCTestCase {
    typealias F = LedgerFixtures

    func testLedgerFileIsInWALMode() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        try ledger.addCells([F.cell("a", position: 0)])
        var configuration = Configuration()
        configuration.readonly = true
        let raw = try DatabaseQueue(path: ledger.path, configuration: configuration)
        XCTAssertEqual(try raw.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }, "wal")
        // The file header says so too: read and write format versions 2 mean WAL.
        let header = try XCTUnwrap(FileHandle(forReadingAtPath: ledger.path)).readData(ofLength: 20)
        XCTAssertEqual(Array(header[18..<20]), [2, 2])
    }

    func testReaderSeesCommitsOfALiveWriter() throws {
        let dir = TemporaryDirectory("ledger")
        let writer = try Ledger(directory: dir.path)
        try writer.beginRun(sweepName: "depth", sweepText: "")
        let reader = try Ledger(readingDirectory: dir.path)
        XCTAssertTrue(reader.isReadOnly)
        XCTAssertEqual(try reader.cells(), [])
        try writer.addCells([F.cell("a", position: 0)])
        XCTAssertEqual(try reader.cells(), [F.cell("a", position: 0)])
        try writer.update(
            F.running(F.cell("a", position: 0), attempt: 1), startingAttempt: F.attempt(F.cell("a", position: 0), 1))
        let snapshot = try reader.snapshot()
        XCTAssertEqual(snapshot.cells.map(\.state), [.running])
        XCTAssertEqual(snapshot.latestAttempts.count, 1)
        XCTAssertEqual(snapshot.sweepName, "depth")
        XCTAssertThrowsError(try reader.addToCounter("x", 1)) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .invalid)
        }
        try writer.addToCounter("y", 2)
        XCTAssertEqual(try reader.counters(), ["y": 2])

        // Once the writer has closed (and SQLite removed the -wal and -shm files), a new reader still reads.
        try writer.close()
        try reader.close()
        let later = try Ledger(readingDirectory: dir.path)
        XCTAssertEqual(try later.counters(), ["y": 2])
        XCTAssertEqual(try later.cells().count, 1)
    }

    func testReadingWithoutALedgerFailsNamingThePath() throws {
        let dir = TemporaryDirectory("ledger")
        XCTAssertThrowsError(try Ledger(readingDirectory: dir.file("nowhere"))) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .missing)
            let text = "\(error)"
            XCTAssertTrue(text.contains(dir.file("nowhere/ledger.sqlite")), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("nowhere")), "reading creates nothing")
    }

    func testAFileThatIsNotALedgerIsRefused() throws {
        let dir = TemporaryDirectory("ledger")
        dir.write("ledger.sqlite", text: String(repeating: "not a database ", count: 100))
        XCTAssertThrowsError(try Ledger(directory: dir.path)) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .damaged)
            XCTAssertTrue("\(error)".contains(dir.file("ledger.sqlite")), "\(error)")
            XCTAssertTrue("\(error)".contains("ablate ledger recover"), "\(error)")
        }
    }

    func testUncommittedWorkOfAnotherConnectionIsInvisibleAndRolledBack() throws {
        let dir = TemporaryDirectory("ledger")
        let writer = try Ledger(directory: dir.path)
        try writer.addCells([F.cell("a", position: 0)])
        let reader = try Ledger(readingDirectory: dir.path)
        let raw = try DatabaseQueue(path: writer.path)
        struct Abandon: Error {}
        XCTAssertThrowsError(
            try raw.write { db in
                try db.execute(sql: "UPDATE cells SET state = 'done', attempt = 9")
                try db.execute(sql: "INSERT INTO counters (name, value) VALUES ('ghost', 1)")
                XCTAssertEqual(try reader.cells().map(\.state), [.pending], "uncommitted changes are invisible")
                XCTAssertEqual(try reader.counters(), [:])
                throw Abandon()
            })
        try raw.close()
        XCTAssertEqual(try reader.cells(), [F.cell("a", position: 0)])
        XCTAssertEqual(try writer.counters(), [:])
    }

    /// A child process writes a stream of commits and is killed with SIGKILL part-way; every commit it reported
    /// must be in the ledger afterwards, and the ledger must open for writing again.
    func testSIGKILLMidStreamLosesNoCommittedRow() throws {
        let dir = TemporaryDirectory("ledger")
        let child = try LedgerCrashChild.start(directory: dir.path)
        let killAfter = Int.random(in: 150...600)
        let (output, killed) = try child.readUntil(commits: killAfter, timeout: 120)
        XCTAssertTrue(killed, "the child stopped before it was killed:\n\(output.suffix(4000))")
        let reported = LedgerCrashChild.lastCommitted(in: output)
        XCTAssertGreaterThanOrEqual(reported, killAfter, output.suffix(4000).description)

        let ledger = try Ledger(directory: dir.path)
        let cell = try XCTUnwrap(try ledger.cell(LedgerCrashChild.cell.id))
        let seqs = try ledger.metrics(cell: cell.id, attempt: 1).map(\.seq)
        // Everything reported is there; at most the one commit in flight when killed is there too.
        XCTAssertEqual(Array(seqs.prefix(reported)), Array(1...reported))
        XCTAssertLessThanOrEqual(seqs.count, reported + 1)
        XCTAssertEqual(seqs, Array(1...seqs.count))
        XCTAssertGreaterThanOrEqual(cell.epochsDone, reported - reported % 7)
        XCTAssertGreaterThanOrEqual(try ledger.counters()["ticks"] ?? 0, reported)
        XCTAssertEqual(try ledger.beginRun(sweepName: "crash", sweepText: ""), 2)
        let raw = try DatabaseQueue(path: ledger.path)
        XCTAssertEqual(try raw.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }, ["ok"])
    }
}
