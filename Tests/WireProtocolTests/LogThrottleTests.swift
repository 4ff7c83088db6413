// LogThrottleTests: repeated log lines are let through once per interval per kind, and the rest are counted.
import WireProtocol
import XCTest

/// Drives `LogThrottle` with a manual clock.
final class LogThrottleTests: XCTestCase {
    func testFirstLineShowsThenOnePerIntervalWithTheCountLeftOut() {
        var throttle = LogThrottle(interval: 10)
        XCTAssertEqual(throttle.admit("stale offer 1", kind: "stale_offer", now: 0), "stale offer 1")
        let held = (1...283_546).compactMap { throttle.admit("stale offer \($0)", kind: "stale_offer", now: 5) }
        XCTAssertEqual(held, [], "everything within the interval is held back")
        XCTAssertEqual(throttle.pending, 283_546)
        XCTAssertEqual(
            throttle.admit("stale offer x", kind: "stale_offer", now: 10),
            "stale offer x (and 283546 more like it in the last 10 s)")
        XCTAssertEqual(throttle.pending, 0)
    }

    func testKindsAreIndependent() {
        var throttle = LogThrottle(interval: 10)
        XCTAssertNotNil(throttle.admit("a", kind: "dropped_name", now: 0))
        XCTAssertNotNil(throttle.admit("b", kind: "dropped_limit", now: 0))
        XCTAssertNil(throttle.admit("a", kind: "dropped_name", now: 1))
    }

    func testFlushReportsHeldLinesOnceTheIntervalHasPassed() {
        var throttle = LogThrottle(interval: 10)
        _ = throttle.admit("x", kind: "dropped_rate", now: 0)
        for _ in 0..<7 { _ = throttle.admit("x", kind: "dropped_rate", now: 1) }
        XCTAssertEqual(throttle.flush(now: 5), [], "not before the interval")
        XCTAssertEqual(throttle.flush(now: 10), ["7 more 'dropped_rate' line(s) left out in the last 10 s"])
        XCTAssertEqual(throttle.flush(now: 30), [])
        XCTAssertEqual(throttle.admit("y", kind: "dropped_rate", now: 31), "y", "a quiet kind shows at once again")
    }

    func testFlushingAllReportsEveryHeldCountAtOnce() {
        var throttle = LogThrottle(interval: 10)
        _ = throttle.admit("x", kind: "stale_offer", now: 0)
        _ = throttle.admit("x", kind: "stale_offer", now: 2)
        _ = throttle.admit("y", kind: "dropped_name", now: 3)
        XCTAssertEqual(throttle.flush(now: 4, all: true), ["1 more 'stale_offer' line(s) left out in the last 4 s"])
        XCTAssertEqual(throttle.pending, 0)
    }

    func testKindsAreBounded() {
        var throttle = LogThrottle(interval: 10, maxKinds: 4)
        let shown = (0..<100).compactMap { throttle.admit("line \($0)", kind: "kind-\($0)", now: 0) }
        XCTAssertEqual(shown.count, 5, "four kinds, then one line for all the others")
        XCTAssertEqual(throttle.flush(now: 10), ["95 more 'other' line(s) left out in the last 10 s"])
    }
}
