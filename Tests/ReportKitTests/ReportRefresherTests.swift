// ReportRefresherTests: report files appear in the state directory on a change; errors are logged, not thrown.
import AblateSupport
import Foundation
import Logging
import ReportKit
import TestSupport
import XCTest

final class ReportRefresherTests: XCTestCase {
    func testWritesEveryFormatWhenTheCountChanges() throws {
        let fixture = try StateDirectoryFixture.make()
        let lines = CapturedLog()
        let refresher = ReportRefresher(stateDirectory: fixture.state, logger: lines.logger("report"))
        refresher.update(finishedCells: 0)
        refresher.wait()
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "\(fixture.state)/report.md"), "nothing finished, nothing written")
        refresher.update(finishedCells: 9)
        refresher.update(finishedCells: 9)
        refresher.wait()
        for name in [
            "report.md", "report.csv", "report.json", "report.html", "cells.csv", "variants.csv", "epochs.csv",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(fixture.state)/\(name)"), name)
        }
        let markdown = try String(contentsOfFile: "\(fixture.state)/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("**better**"))
        XCTAssertEqual(lines.messages, [])
    }

    /// After a rebuild the refresher rests nine times as long as it took: a change seen at once is left for a later
    /// poll, while a forced update (the end of a sweep) rebuilds at once.
    func testAChangeRightAfterARebuildWaitsButAForcedOneDoesNot() throws {
        let fixture = try StateDirectoryFixture.make()
        let refresher = ReportRefresher(stateDirectory: fixture.state, logger: CapturedLog().logger("report"))
        refresher.update(finishedCells: 9)
        refresher.wait()
        let report = "\(fixture.state)/report.md"
        try FileManager.default.removeItem(atPath: report)
        refresher.update(finishedCells: 10)
        refresher.wait()
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: report), "a change right after a rebuild waits for the rest to end")
        refresher.update(finishedCells: 10, force: true)
        refresher.wait()
        XCTAssertTrue(FileManager.default.fileExists(atPath: report))
    }

    /// Rebuilds run in Linux's SCHED_IDLE class, so they take no CPU from training workers on the same cores;
    /// the caller's thread keeps its own class.
    func testRebuildsRunOnIdleCPUOnly() throws {
        #if os(Linux)
            let fixture = try StateDirectoryFixture.make()
            let refresher = ReportRefresher(stateDirectory: fixture.state, logger: CapturedLog().logger("report"))
            XCTAssertFalse(refresher.lastRebuildRanIdle)
            refresher.update(finishedCells: 9)
            refresher.wait()
            XCTAssertTrue(refresher.lastRebuildRanIdle)
            XCTAssertFalse(IdlePriority.isCurrentThreadIdle, "only the rebuild thread is lowered")
        #else
            throw XCTSkip("SCHED_IDLE is Linux's")
        #endif
    }

    /// After `close` nothing is rebuilt or written, forced or not: the caller's final report stays the last one.
    func testNothingIsWrittenAfterClose() throws {
        let fixture = try StateDirectoryFixture.make()
        let refresher = ReportRefresher(stateDirectory: fixture.state, logger: CapturedLog().logger("report"))
        refresher.close()
        refresher.update(finishedCells: 9)
        refresher.update(finishedCells: 10, force: true)
        refresher.poll { 11 }
        refresher.wait()
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(fixture.state)/report.md"))
        XCTAssertFalse(refresher.lastRebuildRanIdle, "no rebuild started")
    }

    func testErrorsAreLogged() {
        let lines = CapturedLog()
        let refresher = ReportRefresher(stateDirectory: "/nonexistent/state", logger: lines.logger("report"))
        refresher.update(finishedCells: 1)
        refresher.wait()
        XCTAssertEqual(
            lines.records,
            [
                CapturedLog.Record(
                    level: .error, label: "report",
                    message: "not refreshed: /nonexistent/state: no such state directory")
            ])
    }
}
