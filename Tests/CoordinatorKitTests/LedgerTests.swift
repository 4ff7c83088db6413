// LedgerTests: every ledger record round-trips, survives reopening, and the sweep/incarnation bookkeeping holds.
import CoordinatorKit
import TestSupport
import XCTest

final class LedgerTests: XCTestCase {
    typealias F = LedgerFixtures

    func testCellsRoundTripInSweepOrderAndAddCellsIsIdempotent() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        var second = F.cell("b", position: 1, dependsOn: F.id("a"))
        second.bestValMacroF1 = 0.625
        second.summaryJSON = #"{"best_epoch":2}"#
        second.reason = "none"
        second.resumeSHA256 = F.id("f")
        second.resumeEpoch = 2
        // The dependency comes later in the batch than the cell needing it.
        XCTAssertEqual(try ledger.addCells([second, F.cell("a", position: 0)]), 2)
        XCTAssertEqual(try ledger.cells(), [F.cell("a", position: 0), second])
        XCTAssertEqual(try ledger.cell(F.id("b")), second)
        XCTAssertEqual(try ledger.cell(F.id("b"))?.seed, UInt64.max - 1)
        XCTAssertNil(try ledger.cell(F.id("c")))

        // Adding again inserts only the new cell and leaves progress of existing ones alone.
        try ledger.update(
            F.running(F.cell("a", position: 0), attempt: 1), startingAttempt: F.attempt(F.cell("a", position: 0), 1))
        XCTAssertEqual(try ledger.addCells([F.cell("a", position: 0), F.cell("c", position: 2)]), 1)
        XCTAssertEqual(try ledger.cell(F.id("a"))?.state, .running)
        XCTAssertEqual(try ledger.cells().map(\.id), [F.id("a"), F.id("b"), F.id("c")])
    }

    func testBadCellsAreRefused() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        var short = F.cell("a", position: 0)
        short.id = "abc"
        XCTAssertThrowsError(try ledger.addCells([short]))
        XCTAssertThrowsError(try ledger.addCells([F.cell("b", position: 0, dependsOn: F.id("9"))])) { error in
            XCTAssertEqual((error as? LedgerError)?.kind, .database)
        }
        XCTAssertEqual(try ledger.cells(), [])
    }

    func testAttemptsMetricsFilesWorkersCountersRoundTrip() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        let cell = F.cell("a", position: 0)
        try ledger.addCells([cell])
        try ledger.update(F.running(cell, attempt: 1), startingAttempt: F.attempt(cell, 1))
        XCTAssertEqual(try ledger.attempts(cell: cell.id), [F.attempt(cell, 1)])

        XCTAssertEqual(try ledger.lastMetricsSeq(cell: cell.id, attempt: 1), 0)
        XCTAssertTrue(try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: 2, f1: 0.75)))
        XCTAssertTrue(try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: 1, f1: 0.25)))
        XCTAssertFalse(
            try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: 1, f1: 0.99)), "a duplicate is ignored")
        XCTAssertEqual(
            try ledger.metrics(cell: cell.id, attempt: 1),
            [F.metrics(cell, attempt: 1, seq: 1, f1: 0.25), F.metrics(cell, attempt: 1, seq: 2, f1: 0.75)])
        XCTAssertEqual(try ledger.lastMetricsSeq(cell: cell.id, attempt: 1), 2)
        XCTAssertEqual(try ledger.metrics(cell: cell.id, attempt: 2), [])

        try ledger.addArtifact(F.artifact("e"))
        try ledger.addArtifact(ArtifactRecord(sha256: F.id("e"), size: 1, path: "elsewhere", addedAt: 0))
        XCTAssertEqual(try ledger.artifact(F.id("e")), F.artifact("e"), "the first record of an artifact stays")
        XCTAssertNil(try ledger.artifact(F.id("d")))
        try ledger.addArtifact(F.artifact("d"))
        try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: "last.h5", epoch: 1, sha256: F.id("e")))
        try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: "last.h5", epoch: 2, sha256: F.id("d")))
        try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: "best.h5", epoch: 2, sha256: F.id("d")))
        XCTAssertEqual(
            try ledger.cellFiles(cell: cell.id, attempt: 1),
            [
                CellFileRecord(cell: cell.id, attempt: 1, name: "best.h5", epoch: 2, sha256: F.id("d")),
                CellFileRecord(cell: cell.id, attempt: 1, name: "last.h5", epoch: 2, sha256: F.id("d")),
            ])
        XCTAssertThrowsError(
            try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: "x", epoch: 2, sha256: F.id("7"))),
            "a file's artifact must be recorded first")

        var gpuWorker = F.worker("host-gpu0", seen: 10)
        gpuWorker.gpu = 0
        try ledger.upsertWorker(gpuWorker)
        try ledger.upsertWorker(F.worker("host-cpu", seen: 11))
        var again = F.worker("host-gpu0", seen: 20, incarnation: "c3d4")
        again.gpu = 1
        try ledger.upsertWorker(again)
        var expected = again
        expected.firstSeen = 10
        XCTAssertEqual(try ledger.workers(), [F.worker("host-cpu", seen: 11), expected])

        XCTAssertEqual(try ledger.counters(), [:])
        XCTAssertEqual(try ledger.addToCounter("dropped_frames", 3), 3)
        XCTAssertEqual(try ledger.addToCounter("dropped_frames", 2), 5)
        try ledger.addToCounter("stale_messages", 1)
        XCTAssertEqual(try ledger.counters(), ["dropped_frames": 5, "stale_messages": 1])
    }

    func testNonFiniteMetricsAreStoredAsSent() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        let cell = F.cell("a", position: 0)
        try ledger.addCells([cell])
        try ledger.update(F.running(cell, attempt: 1), startingAttempt: F.attempt(cell, 1))
        let values: [Double] = [.nan, .infinity, -.infinity, 0.5]
        for (index, value) in values.enumerated() {
            XCTAssertTrue(
                try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: index + 1, f1: value)), "\(value) is stored")
        }
        let stored = try ledger.metrics(cell: cell.id, attempt: 1).map(\.valMacroF1)
        XCTAssertEqual(stored.count, 4, "a NaN is not dropped")
        XCTAssertTrue(stored[0].isNaN)
        XCTAssertEqual(Array(stored.dropFirst()), [.infinity, -.infinity, 0.5])
        XCTAssertFalse(try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: 1, f1: 0.1)), "deduplicated as before")
    }

    func testReopenKeepsEverythingAndIncarnationIncrements() throws {
        let dir = TemporaryDirectory("ledger")
        let cell = F.cell("a", position: 0)
        do {
            let ledger = try Ledger(directory: dir.file("state"))
            XCTAssertNil(try ledger.sweepName())
            XCTAssertEqual(try ledger.incarnation(), 0)
            XCTAssertEqual(try ledger.beginRun(sweepName: "depth", sweepText: "name: depth\n"), 1)
            try ledger.addCells([cell])
            try ledger.update(F.running(cell, attempt: 1), startingAttempt: F.attempt(cell, 1))
            try ledger.appendMetrics(F.metrics(cell, attempt: 1, seq: 1))
            try ledger.addArtifact(F.artifact("e"))
            try ledger.addCellFile(
                CellFileRecord(cell: cell.id, attempt: 1, name: "last.h5", epoch: 1, sha256: F.id("e")))
            try ledger.upsertWorker(F.worker("w", seen: 1))
            try ledger.addToCounter("n", 7)
            try ledger.close()
            XCTAssertThrowsError(try ledger.cells(), "a closed ledger refuses work")
        }
        let ledger = try Ledger(directory: dir.file("state"))
        XCTAssertEqual(try ledger.sweepName(), "depth")
        XCTAssertEqual(try ledger.sweepText(), "name: depth\n")
        XCTAssertEqual(try ledger.incarnation(), 1)
        XCTAssertEqual(try ledger.beginRun(sweepName: "depth", sweepText: "name: depth\nseeds: 2\n"), 2)
        XCTAssertEqual(try ledger.sweepText(), "name: depth\nseeds: 2\n")
        XCTAssertEqual(try ledger.cells(), [F.running(cell, attempt: 1)])
        XCTAssertEqual(try ledger.attempts(cell: cell.id), [F.attempt(cell, 1)])
        XCTAssertEqual(try ledger.metrics(cell: cell.id, attempt: 1), [F.metrics(cell, attempt: 1, seq: 1)])
        XCTAssertEqual(try ledger.artifact(F.id("e")), F.artifact("e"))
        XCTAssertEqual(try ledger.cellFiles(cell: cell.id, attempt: 1).map(\.name), ["last.h5"])
        XCTAssertEqual(try ledger.workers(), [F.worker("w", seen: 1)])
        XCTAssertEqual(try ledger.counters(), ["n": 7])
    }

    func testAnotherSweepIsRefused() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        XCTAssertEqual(try ledger.beginRun(sweepName: "depth", sweepText: "a"), 1)
        XCTAssertThrowsError(try ledger.beginRun(sweepName: "width", sweepText: "b")) { error in
            let ledgerError = error as? LedgerError
            XCTAssertEqual(ledgerError?.kind, .otherSweep)
            XCTAssertTrue("\(error)".contains("belongs to sweep depth"), "\(error)")
            XCTAssertTrue("\(error)".contains(Ledger.filePath(in: dir.path)), "\(error)")
        }
        XCTAssertEqual(try ledger.incarnation(), 1, "a refused run leaves the incarnation alone")
        XCTAssertEqual(try ledger.sweepText(), "a")
    }

    func testSnapshotHoldsLatestAttemptsWorkersAndCounters() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        try ledger.beginRun(sweepName: "depth", sweepText: "")
        let a = F.cell("a", position: 0)
        let b = F.cell("b", position: 1)
        try ledger.addCells([a, b])
        try ledger.update(F.running(a, attempt: 1), startingAttempt: F.attempt(a, 1))
        var retry = F.running(a, attempt: 2, worker: "other")
        retry.failures = 1
        try ledger.update(
            retry, startingAttempt: F.attempt(a, 2, worker: "other"),
            endingAttempt: (attempt: 1, outcome: "lost", reason: "session expired", at: 5))
        try ledger.upsertWorker(F.worker("other", seen: 3))
        try ledger.addToCounter("malformed", 1)

        let snapshot = try ledger.snapshot()
        XCTAssertEqual(snapshot.sweepName, "depth")
        XCTAssertEqual(snapshot.incarnation, 1)
        XCTAssertEqual(snapshot.cells, [retry, b])
        XCTAssertEqual(snapshot.latestAttempts, [a.id: F.attempt(a, 2, worker: "other")])
        XCTAssertEqual(snapshot.workers, [F.worker("other", seen: 3)])
        XCTAssertEqual(snapshot.counters, ["malformed": 1])
        XCTAssertEqual(snapshot.stateCounts, [.running: 1, .pending: 1])
    }
}
