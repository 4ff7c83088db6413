// LabGrantsTests: a lab's slot decision — priority strictly first, fair share by running cells, ties, limits.
import CoordinatorKit
import XCTest

final class LabGrantsTests: XCTestCase {
    private let w1: [UInt8] = [1]
    private let w2: [UInt8] = [2]

    private func sweep(
        _ name: String, priority: Int = 0, running: Int = 0, lastServed: Int = 0, submittedAt: Double = 0,
        ready: Int = 100
    ) -> LabGrants.Sweep {
        LabGrants.Sweep(
            standing: SweepStanding(
                name: name, priority: priority, running: running, lastServed: lastServed, submittedAt: submittedAt),
            ready: ready)
    }

    private func names(_ grants: [LabGrants.Grant]) -> [String] { grants.map(\.sweep) }

    func testHigherPriorityTakesEverySlotItCanUse() {
        let grants = LabGrants.plan(
            free: [w1: 3], sweeps: [sweep("low", running: 0), sweep("high", priority: 5, running: 7)], serial: 0)
        XCTAssertEqual(names(grants), ["high", "high", "high"], "priority is strict, however many it runs")
        let limited = LabGrants.plan(
            free: [w1: 3], sweeps: [sweep("low"), sweep("high", priority: 5, ready: 1)], serial: 0)
        XCTAssertEqual(names(limited), ["high", "low", "low"], "then the next priority, once it has nothing ready")
    }

    func testEqualPrioritiesShareByRunningCells() {
        let grants = LabGrants.plan(
            free: [w1: 2, w2: 2], sweeps: [sweep("a", submittedAt: 1), sweep("b", submittedAt: 2)], serial: 0)
        XCTAssertEqual(names(grants), ["a", "b", "a", "b"])
        let behind = LabGrants.plan(
            free: [w1: 4], sweeps: [sweep("a", running: 3), sweep("b", running: 0)], serial: 10)
        XCTAssertEqual(names(behind), ["b", "b", "b", "a"], "the newcomer catches up, then they alternate")
    }

    func testTiesGoToTheLeastRecentlyServedThenTheEarlierThenTheName() {
        XCTAssertEqual(
            names(
                LabGrants.plan(
                    free: [w1: 1], sweeps: [sweep("a", lastServed: 9), sweep("b", lastServed: 4)], serial: 9)), ["b"])
        XCTAssertEqual(
            names(
                LabGrants.plan(
                    free: [w1: 1], sweeps: [sweep("a", submittedAt: 5), sweep("b", submittedAt: 3)], serial: 0)),
            ["b"])
        XCTAssertEqual(names(LabGrants.plan(free: [w1: 1], sweeps: [sweep("b"), sweep("a")], serial: 0)), ["a"])
    }

    func testSlotsGoToTheWorkerWithMostFreeAndSerialsCount() {
        let grants = LabGrants.plan(free: [w1: 1, w2: 2, [3]: 0], sweeps: [sweep("a")], serial: 41)
        XCTAssertEqual(grants.map(\.worker), [w2, w1, w2])
        XCTAssertEqual(grants.map(\.serial), [42, 43, 44])
    }

    func testNothingReadyOrNoSlotGrantsNothing() {
        XCTAssertEqual(LabGrants.plan(free: [w1: 2], sweeps: [sweep("a", ready: 0)], serial: 0), [])
        XCTAssertEqual(LabGrants.plan(free: [:], sweeps: [sweep("a")], serial: 0), [])
        XCTAssertEqual(LabGrants.plan(free: [w1: 3], sweeps: [], serial: 0), [])
    }

    /// 3 sweeps of one priority on 6 slots, 60 rounds of one cell ending per round (each sweep in turn): the
    /// slot-rounds each sweep held differ by at most 2 (of about 120 each).
    func testEqualSharesOverTime() {
        var running = ["a": 0, "b": 0, "c": 0]
        var lastServed = ["a": 0, "b": 0, "c": 0]
        var held = ["a": 0, "b": 0, "c": 0]
        var serial = 0
        var free = 6
        for round in 0..<60 {
            let sweeps = running.keys.sorted().map {
                sweep($0, running: running[$0] ?? 0, lastServed: lastServed[$0] ?? 0, submittedAt: 0)
            }
            for grant in LabGrants.plan(free: free > 0 ? [w1: free] : [:], sweeps: sweeps, serial: serial) {
                running[grant.sweep, default: 0] += 1
                lastServed[grant.sweep] = grant.serial
                serial = grant.serial
                free -= 1
            }
            for (name, count) in running { held[name, default: 0] += count }
            // The sweep that has run longest ends a cell (rotating), freeing one slot.
            let ending = ["a", "b", "c"][round % 3]
            if (running[ending] ?? 0) > 0 {
                running[ending, default: 0] -= 1
                free += 1
            }
        }
        let shares = held.values
        XCTAssertLessThanOrEqual((shares.max() ?? 0) - (shares.min() ?? 0), 2, "\(held)")
        XCTAssertEqual(running.values.reduce(0, +), 6 - free)
    }
}
