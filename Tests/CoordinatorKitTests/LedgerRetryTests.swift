// LedgerRetryTests: failed cells back to pending — fresh budget, attempts kept, dependents along, refusals change nothing.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class LedgerRetryTests: XCTestCase {
    /// `cell` run as attempt `number` and failed finally (failures = `failures`), its attempt closed as failed.
    private func fail(_ ledger: Ledger, _ cell: CellRecord, attempt number: Int, failures: Int, reason: String) throws
        -> CellRecord
    {
        let running = LedgerFixtures.running(cell, attempt: number)
        try ledger.update(running, startingAttempt: LedgerFixtures.attempt(cell, number))
        var failed = running
        failed.state = .failed
        failed.failures = failures
        failed.worker = nil
        failed.reason = reason
        try ledger.update(failed, endingAttempt: (number, "failed", reason, 1_700_000_500))
        return failed
    }

    func testFailedCellAndItsNeverRunDependentArePendingAgainWithTheirAttemptsKept() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let stage1 = LedgerFixtures.cell("a", position: 0)
        let child = LedgerFixtures.cell("b", position: 1, dependsOn: stage1.id)
        let done = LedgerFixtures.cell("c", position: 2)
        try ledger.addCells([stage1, child, done])
        var failedStage1 = try fail(ledger, stage1, attempt: 1, failures: 1, reason: "exit 1")
        failedStage1 = try fail(ledger, failedStage1, attempt: 2, failures: 2, reason: "exit 1 again")
        var dependent = child
        dependent.state = .failed
        dependent.reason = "its stage-1 job failed: exit 1 again"
        try ledger.update(dependent)
        var finished = LedgerFixtures.running(done, attempt: 1)
        try ledger.update(finished, startingAttempt: LedgerFixtures.attempt(done, 1))
        finished.state = .done
        try ledger.update(finished, endingAttempt: (1, "done", nil, 1_700_000_600))

        let retried = try ledger.retry([stage1.id], at: 1_800_000_000)
        XCTAssertEqual(retried.map(\.id), [stage1.id, child.id], "the named cell, then its dependent")
        let again = try XCTUnwrap(try ledger.cell(stage1.id))
        XCTAssertEqual(again.state, .pending)
        XCTAssertEqual(again.failures, 0, "a fresh attempt budget")
        XCTAssertEqual(again.attempt, 2, "the next attempt is number 3")
        XCTAssertNil(again.reason)
        XCTAssertEqual(again.updatedAt, 1_800_000_000)
        XCTAssertEqual(try ledger.attempts(cell: stage1.id).map(\.outcome), ["failed", "failed"], "attempts kept")
        XCTAssertEqual(try ledger.attempts(cell: stage1.id).map(\.reason), ["exit 1", "exit 1 again"])
        XCTAssertEqual(try ledger.cell(child.id)?.state, .pending)

        // A next attempt is numbered on from the kept ones.
        let third = LedgerFixtures.running(again, attempt: 3)
        try ledger.update(third, startingAttempt: LedgerFixtures.attempt(again, 3))
        XCTAssertEqual(try ledger.attempts(cell: stage1.id).map(\.attempt), [1, 2, 3])
    }

    func testRefusalsChangeNothing() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let a = LedgerFixtures.cell("a", position: 0)
        let b = LedgerFixtures.cell("b", position: 1)
        try ledger.addCells([a, b])
        _ = try fail(ledger, a, attempt: 1, failures: 1, reason: "boom")
        XCTAssertThrowsError(try ledger.retry([a.id, b.id], at: 1)) { error in
            XCTAssertTrue("\(error)".contains("is pending, not failed"), "\(error)")
        }
        XCTAssertEqual(try ledger.cell(a.id)?.state, .failed, "one refusal, no change at all")
        XCTAssertThrowsError(try ledger.retry([LedgerFixtures.id("f")], at: 1)) { error in
            XCTAssertTrue("\(error)".contains("no cell"), "\(error)")
        }
        XCTAssertEqual(try ledger.retry([a.id, a.id], at: 1).count, 1, "a repeated id once")
    }
}
