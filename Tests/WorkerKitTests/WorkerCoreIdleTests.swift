// WorkerCoreIdleTests: `--exit-when-idle` ends a worker only after that long without a job, connected or not.
import WireProtocol
import WorkerKit
import XCTest

extension WorkerCoreTests {
    func idleCore(after seconds: Double) -> WorkerCore {
        var options = WorkerOptions(endpoint: "ipc:///nowhere", name: "w0", workDirectory: "/nowhere")
        options.exitWhenIdle = seconds
        return WorkerCore(options: options, incarnation: "i1", host: "host", blasCore: "generic")
    }

    func testAWorkerThatNeverConnectsExitsOnceIdleLongEnough() {
        var core = idleCore(after: 5)
        _ = core.start(now: 0)
        _ = core.tick(now: 0.1)
        XCTAssertFalse(core.tick(now: 5).contains(.log("no job for 5 s (--exit-when-idle); exiting")))
        XCTAssertFalse(core.exitRequested)
        XCTAssertTrue(core.tick(now: 5.2).contains(.log("no job for 5 s (--exit-when-idle); exiting")))
        XCTAssertTrue(core.exitRequested)
    }

    func testAJobHeldResetsTheIdleClock() throws {
        var core = idleCore(after: 5)
        connect(&core, now: 0)
        _ = core.tick(now: 0.5)
        assign(&core, try assignment("a"), now: 4)
        _ = core.tick(now: 4.5)
        XCTAssertFalse(core.exitRequested)
        _ = core.tick(now: 30)
        XCTAssertFalse(core.exitRequested, "a worker holding a job is not idle, however long it runs")
        _ = core.received(.cancel(Cancel(cell: id("a"), attempt: 1, reason: "x")), now: 31, cached: { _ in true })
        _ = core.handle(.cancelled(cell: id("a"), attempt: 1), now: 31)
        _ = core.tick(now: 31)
        _ = core.tick(now: 35.9)
        XCTAssertFalse(core.exitRequested, "idle counts from the end of the last job")
        _ = core.tick(now: 36.1)
        XCTAssertTrue(core.exitRequested)
    }

    func testWithoutTheOptionAWorkerWaitsForever() {
        var core = idleCore(after: 5)
        var options = WorkerOptions(endpoint: "ipc:///nowhere", name: "w0", workDirectory: "/nowhere")
        options.exitWhenIdle = nil
        core = WorkerCore(options: options, incarnation: "i1", host: "host", blasCore: "generic")
        _ = core.start(now: 0)
        _ = core.tick(now: 1)
        _ = core.tick(now: 1e6)
        XCTAssertFalse(core.exitRequested)
    }
}
