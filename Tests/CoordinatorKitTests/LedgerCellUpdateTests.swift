// LedgerCellUpdateTests: a cell becomes done exactly once, and a cell change and its attempt rows commit together.
import CoordinatorKit
import TestSupport
import XCTest

final class LedgerCellUpdateTests: XCTestCase {
    typealias F = LedgerFixtures

    private func ledgerWithRunningCell() throws -> (TemporaryDirectory, Ledger, CellRecord) {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        let cell = F.cell("a", position: 0)
        try ledger.addCells([cell])
        let running = F.running(cell, attempt: 1)
        try ledger.update(running, startingAttempt: F.attempt(cell, 1))
        return (dir, ledger, running)
    }

    private func kind(of error: any Error) -> LedgerError.Kind? { (error as? LedgerError)?.kind }

    func testDoneHappensExactlyOnce() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var done = running
        done.state = .done
        done.worker = nil
        done.epochsDone = 3
        done.summaryJSON = #"{"best_val_macro_f1":0.8}"#
        try ledger.update(done, endingAttempt: (attempt: 1, outcome: "done", reason: nil, at: 50))
        XCTAssertEqual(try ledger.cell(done.id), done)
        XCTAssertEqual(try ledger.attempts(cell: done.id).first?.outcome, "done")
        XCTAssertEqual(try ledger.attempts(cell: done.id).first?.endedAt ?? 0, 50, accuracy: 1e-9)

        XCTAssertThrowsError(try ledger.update(done)) { XCTAssertEqual(self.kind(of: $0), .alreadyDone) }
        var backToPending = done
        backToPending.state = .pending
        XCTAssertThrowsError(try ledger.update(backToPending)) { error in
            XCTAssertEqual(self.kind(of: error), .alreadyDone)
            XCTAssertTrue("\(error)".contains("already done"), "\(error)")
            XCTAssertTrue("\(error)".contains(done.id), "\(error)")
        }
        XCTAssertEqual(try ledger.cell(done.id), done)
    }

    func testDoneWithAnotherAttemptIsRefused() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var retry = running
        retry.attempt = 2
        try ledger.update(
            retry, startingAttempt: F.attempt(running, 2),
            endingAttempt: (attempt: 1, outcome: "lost", reason: nil, at: 9))
        var staleDone = running
        staleDone.state = .done
        XCTAssertThrowsError(try ledger.update(staleDone)) { XCTAssertEqual(self.kind(of: $0), .staleAttempt) }
        XCTAssertEqual(try ledger.cell(running.id), retry)
    }

    func testFailedCellKeepsItsReason() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var failed = running
        failed.state = .failed
        failed.failures = 1
        failed.reason = "loss diverged at epoch 2"
        try ledger.update(failed, endingAttempt: (attempt: 1, outcome: "failed", reason: failed.reason, at: 7))
        XCTAssertEqual(try ledger.cell(running.id)?.reason, "loss diverged at epoch 2")
        XCTAssertEqual(try ledger.attempts(cell: running.id).first?.reason, "loss diverged at epoch 2")
    }

    func testDuplicateAttemptRollsBackTheWholeUpdate() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var changed = running
        changed.epochsDone = 2
        changed.worker = "someone-else"
        // Attempt 1 exists already: the insert fails, so neither the cell nor the ending of attempt 1 may stick.
        XCTAssertThrowsError(
            try ledger.update(
                changed, startingAttempt: F.attempt(running, 1),
                endingAttempt: (attempt: 1, outcome: "lost", reason: "x", at: 3))
        ) {
            XCTAssertEqual(self.kind(of: $0), .invalid)
        }
        XCTAssertEqual(try ledger.cell(running.id), running)
        XCTAssertEqual(try ledger.attempts(cell: running.id), [F.attempt(running, 1)])
    }

    func testConstraintFailureInsideUpdateRollsBack() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var changed = running
        // Violates the attempt >= 0 check when the cell row is written, after the attempt was ended.
        changed.attempt = -1
        XCTAssertThrowsError(
            try ledger.update(changed, endingAttempt: (attempt: 1, outcome: "lost", reason: nil, at: 3))
        ) {
            XCTAssertEqual(self.kind(of: $0), .database)
        }
        XCTAssertEqual(try ledger.attempts(cell: running.id), [F.attempt(running, 1)], "the ending was rolled back")
        XCTAssertEqual(try ledger.cell(running.id), running)
    }

    func testBadAttemptArgumentsAreRefused() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var next = running
        next.attempt = 2
        XCTAssertThrowsError(try ledger.update(next, startingAttempt: F.attempt(running, 3))) {
            XCTAssertEqual(self.kind(of: $0), .invalid)
        }
        var otherCell = F.attempt(running, 2)
        otherCell.cell = F.id("b")
        XCTAssertThrowsError(try ledger.update(next, startingAttempt: otherCell)) {
            XCTAssertEqual(self.kind(of: $0), .invalid)
        }
        XCTAssertThrowsError(
            try ledger.update(next, endingAttempt: (attempt: 1, outcome: "exploded", reason: nil, at: 1))
        ) {
            XCTAssertEqual(self.kind(of: $0), .invalid)
        }
        XCTAssertThrowsError(try ledger.update(next, endingAttempt: (attempt: 5, outcome: "lost", reason: nil, at: 1)))
        {
            XCTAssertEqual(self.kind(of: $0), .invalid)
        }
        XCTAssertThrowsError(try ledger.update(F.cell("z", position: 9))) {
            XCTAssertEqual(self.kind(of: $0), .unknownCell)
        }
        XCTAssertEqual(try ledger.cell(running.id), running)
    }

    func testEndingAnAttemptTwiceKeepsTheFirstEnding() throws {
        let (_, ledger, running) = try ledgerWithRunningCell()
        var pending = running
        pending.state = .pending
        try ledger.update(pending, endingAttempt: (attempt: 1, outcome: "lost", reason: "expired", at: 4))
        try ledger.update(pending, endingAttempt: (attempt: 1, outcome: "cancelled", reason: "late", at: 8))
        let attempt = try XCTUnwrap(try ledger.attempts(cell: running.id).first)
        XCTAssertEqual(attempt.outcome, "lost")
        XCTAssertEqual(attempt.reason, "expired")
        XCTAssertEqual(attempt.endedAt ?? 0, 4, accuracy: 1e-9)
    }
}
