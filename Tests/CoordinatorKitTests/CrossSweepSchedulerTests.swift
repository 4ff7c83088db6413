// CrossSweepSchedulerTests: the cross-sweep decision under a manual clock — priority, fair share, pauses, gating.
import AblateSupport
import CoordinatorKit
import XCTest

/// Drives `CrossSweepScheduler` with hand-made events and times (seconds) and checks its picks
/// (docs/scheduling.md: strict priority, fair share by running cells, ties, stage-1 gating, shared cells, ageing).
final class CrossSweepSchedulerTests: XCTestCase {
    /// `count` independent cells of sweep `prefix`: `prefix-0`, `prefix-1`, ….
    static func cells(_ prefix: String, _ count: Int) -> [CrossSweepCell] {
        (0..<count).map { CrossSweepCell(id: "\(prefix)-\($0)") }
    }

    /// A stage-1 job `prefix-s1` first, then `count` stage-2 cells that need it.
    static func staged(_ prefix: String, _ count: Int) -> [CrossSweepCell] {
        [CrossSweepCell(id: "\(prefix)-s1")]
            + (0..<count).map { CrossSweepCell(id: "\(prefix)-\($0)", dependsOn: "\(prefix)-s1") }
    }

    static func slots(_ count: Int) -> [String] { (0..<count).map { "w\($0 / 2).\($0 % 2)" } }

    /// Running cells per sweep.
    func running(_ scheduler: CrossSweepScheduler) -> [String: Int] {
        scheduler.sweeps.mapValues(\.running.count)
    }

    func testTwoSweepsOfEqualPriorityShareFourSlotsTwoEach() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.cells("a", 10), now: 0)
        try scheduler.submit("b", cells: Self.cells("b", 10), now: 1)
        let started = scheduler.fill(slots: Self.slots(4), now: 2)
        XCTAssertEqual(started.map(\.pick.description), ["a/a-0", "b/b-0", "a/a-1", "b/b-1"])
        XCTAssertEqual(running(scheduler), ["a": 2, "b": 2])
        XCTAssertEqual(scheduler.slot(of: "a-1"), "w1.0")
    }

    func testWeightsSplitSlotsInProportion() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", weight: 2, cells: Self.cells("a", 10), now: 0)
        try scheduler.submit("b", cells: Self.cells("b", 10), now: 0)
        scheduler.fill(slots: Self.slots(6), now: 0)
        XCTAssertEqual(running(scheduler), ["a": 4, "b": 2])
        XCTAssertThrowsError(try scheduler.setWeight(0, of: "b")) {
            XCTAssertEqual($0 as? CrossSweepError, .invalidWeight(0))
        }
    }

    func testThirdSweepGetsItsShareAsCellsFinishWithoutPreemption() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.cells("a", 10), now: 0)
        try scheduler.submit("b", cells: Self.cells("b", 10), now: 0)
        scheduler.fill(slots: Self.slots(4), now: 0)
        try scheduler.submit("c", cells: Self.cells("c", 10), now: 10)
        // No slot is free: nothing starts and nothing running is taken back.
        XCTAssertEqual(scheduler.pick(now: 10), CrossSweepPick(sweep: "c", cell: "c-0"))
        XCTAssertTrue(scheduler.fill(slots: Self.slots(4), now: 10).isEmpty)
        XCTAssertEqual(running(scheduler), ["a": 2, "b": 2, "c": 0])

        try scheduler.finish("a-0", now: 20)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: 20).map(\.pick.sweep), ["c"])
        XCTAssertEqual(running(scheduler), ["a": 1, "b": 2, "c": 1])
        // b's cell ends: a, b and c run one each; the least recently served (a) gets the slot.
        try scheduler.finish("b-0", now: 30)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: 30).map(\.pick.sweep), ["a"])
        // From now on every free slot goes to a sweep with the fewest running cells: shares stay 2, 1, 1 in turn.
        for (step, cell) in ["a-1", "b-1", "c-0", "a-2"].enumerated() {
            let now = Double(40 + 10 * step)
            try scheduler.finish(cell, now: now)
            XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: now).count, 1)
            let counts = running(scheduler).values
            XCTAssertEqual(counts.sorted(), [1, 1, 2], "after \(cell)")
        }
    }

    func testHigherPrioritySweepTakesEveryFreeSlotFirst() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("low", cells: Self.cells("low", 10), now: 0)
        scheduler.fill(slots: Self.slots(4), now: 0)
        try scheduler.submit("high", priority: 1, cells: Self.cells("high", 10), now: 5)
        for (step, cell) in ["low-0", "low-1", "low-2", "low-3"].enumerated() {
            let now = Double(10 + step)
            try scheduler.finish(cell, now: now)
            XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: now).map(\.pick.sweep), ["high"])
        }
        XCTAssertEqual(running(scheduler), ["low": 0, "high": 4])
        // Without ageing a lower priority waits as long as a higher one has ready cells (intended, as in Slurm).
        try scheduler.finish("high-0", now: 10_000)
        XCTAssertEqual(scheduler.pick(now: 10_000)?.sweep, "high")
        // Lowered to the same priority, the sweeps share again.
        try scheduler.setPriority(0, of: "high")
        XCTAssertEqual(scheduler.pick(now: 10_000)?.sweep, "low")
    }

    func testPausedSweepGetsNoCellAndResumesItsShare() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.cells("a", 10), now: 0)
        try scheduler.submit("b", cells: Self.cells("b", 10), now: 0)
        scheduler.fill(slots: Self.slots(2), now: 0)
        try scheduler.pause("b", now: 1)
        // b's running cell goes on; every new slot goes to a.
        XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: 1).map(\.pick.sweep), ["a", "a"])
        XCTAssertEqual(running(scheduler), ["a": 3, "b": 1])
        XCTAssertThrowsError(try scheduler.start("b-1", slot: "w9.0", now: 1)) {
            XCTAssertEqual($0 as? CrossSweepError, .notReady("b-1"))
        }
        try scheduler.finish("a-0", now: 2)
        XCTAssertEqual(scheduler.pick(now: 2)?.sweep, "a")
        try scheduler.pause("a", now: 2)
        XCTAssertNil(scheduler.pick(now: 2), "every sweep is paused")
        try scheduler.resume("a", now: 3)
        try scheduler.resume("b", now: 3)
        // b runs 1 against a's 2: b gets the free slot, and the shares are equal again.
        XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: 3).map(\.pick.sweep), ["b"])
        XCTAssertEqual(running(scheduler), ["a": 2, "b": 2])
    }

    func testStageTwoCellsWaitForTheirOwnSweepsStageOneJob() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.staged("a", 5), now: 0)
        try scheduler.submit("b", cells: Self.staged("b", 5), now: 0)
        try scheduler.submit("c", cells: Self.cells("c", 10), now: 0)
        let first = scheduler.fill(slots: Self.slots(6), now: 0).map(\.pick.cell)
        // Only the stage-1 jobs of a and b are ready there; c fills the rest.
        XCTAssertEqual(first, ["a-s1", "b-s1", "c-0", "c-1", "c-2", "c-3"])
        XCTAssertEqual(scheduler.ready(of: "a"), [])
        XCTAssertThrowsError(try scheduler.start("a-0", slot: "w9.0", now: 0)) {
            XCTAssertEqual($0 as? CrossSweepError, .notReady("a-0"))
        }
        // a's stage-1 job is done: a's stage-2 cells are ready, not b's.
        try scheduler.finish("a-s1", now: 50)
        XCTAssertEqual(scheduler.ready(of: "a"), ["a-0", "a-1", "a-2", "a-3", "a-4"])
        XCTAssertEqual(scheduler.ready(of: "b"), [])
        XCTAssertEqual(scheduler.fill(slots: Self.slots(6), now: 50).map(\.pick.cell), ["a-0"])
        try scheduler.finish("c-0", now: 60)
        XCTAssertEqual(scheduler.pick(now: 60)?.cell, "a-1", "a runs 1, c 3, b only its stage-1 job but none ready")
        // b's stage-1 job fails: its stage-2 cells fail with it and b is finished.
        XCTAssertEqual(try scheduler.finish("b-s1", succeeded: false, now: 70), ["b-0", "b-1", "b-2", "b-3", "b-4"])
        XCTAssertEqual(scheduler.state(of: "b-3"), .failed)
        XCTAssertTrue(scheduler.isFinished("b"))
    }

    func testSharedCellIsOwnedByTheFirstSweepAndTheOtherWaitsOnIt() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.staged("a", 3), now: 0)
        // b plans the same stage-1 job (same content address) and its own stage-2 cells on it.
        let shared = try scheduler.submit(
            "b", cells: [CrossSweepCell(id: "a-s1")] + (0..<3).map { CrossSweepCell(id: "b-\($0)", dependsOn: "a-s1") },
            now: 1)
        XCTAssertEqual(shared, ["a-s1"])
        XCTAssertEqual(scheduler.owner(of: "a-s1"), "a")
        XCTAssertEqual(scheduler.sweeps["b"]?.order, ["b-0", "b-1", "b-2"])
        XCTAssertEqual(scheduler.fill(slots: Self.slots(4), now: 2).map(\.pick.description), ["a/a-s1"])
        XCTAssertEqual(running(scheduler), ["a": 1, "b": 0])
        try scheduler.finish("a-s1", now: 10)
        XCTAssertEqual(
            scheduler.fill(slots: Self.slots(4), now: 10).map(\.pick.description), ["b/b-0", "a/a-0", "b/b-1", "a/a-1"])
        XCTAssertTrue(scheduler.isFinished("a") == false && scheduler.isFinished("b") == false)
    }

    func testRemovedOwnerPassesSharedCellsToTheSweepThatWaitsOnThem() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.cells("a", 2) + Self.staged("x", 2), now: 0)
        try scheduler.submit("b", cells: [CrossSweepCell(id: "x-0", dependsOn: "x-s1")] + Self.cells("b", 1), now: 1)
        scheduler.fill(slots: Self.slots(3), now: 2)
        XCTAssertEqual(scheduler.sweeps["a"]?.running, ["a-0", "a-1"])
        XCTAssertEqual(scheduler.slots["w0.1"], "b-0")
        try scheduler.finish("a-0", now: 3)
        scheduler.fill(slots: Self.slots(3), now: 3)
        XCTAssertEqual(scheduler.slots["w0.0"], "x-s1")
        // a is cancelled: x-0 (borrowed by b) and the stage-1 job it needs pass to b; x-s1 keeps running.
        let cancelled = try scheduler.remove("a", now: 4)
        XCTAssertEqual(cancelled, ["w1.0": "a-1"])
        XCTAssertEqual(scheduler.owner(of: "x-s1"), "b")
        XCTAssertEqual(scheduler.sweeps["b"]?.order, ["x-s1", "x-0", "b-0"])
        XCTAssertEqual(scheduler.sweeps["b"]?.borrowed, [])
        XCTAssertEqual(scheduler.sweeps["b"]?.running, ["x-s1", "b-0"])
        XCTAssertNil(scheduler.state(of: "x-1"), "nobody needs x-1")
        XCTAssertNil(scheduler.slots["w1.0"])
        try scheduler.finish("x-s1", now: 5)
        XCTAssertEqual(scheduler.pick(now: 5)?.cell, "x-0")
    }

    func testReleasedCellIsPickedAgainAtItsPlace() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("a", cells: Self.cells("a", 4), now: 0)
        scheduler.fill(slots: Self.slots(2), now: 0)
        XCTAssertEqual(scheduler.releaseSlot("w0.0", now: 1), "a-0")
        XCTAssertNil(scheduler.releaseSlot("w0.0", now: 1))
        XCTAssertEqual(scheduler.pick(now: 1)?.cell, "a-0")
        XCTAssertThrowsError(try scheduler.start("a-0", slot: "w0.1", now: 1)) {
            XCTAssertEqual($0 as? CrossSweepError, .slotBusy(slot: "w0.1", cell: "a-1"))
        }
        XCTAssertThrowsError(try scheduler.finish("a-0", now: 1)) {
            XCTAssertEqual($0 as? CrossSweepError, .notReady("a-0"))
        }
        XCTAssertThrowsError(try scheduler.submit("a", cells: [], now: 1)) {
            XCTAssertEqual($0 as? CrossSweepError, .duplicateSweep("a"))
        }
    }

    func testTiesFollowNameNotTheOrderOfEvents() throws {
        // Equal priority, share, service and submission time: the name decides, whatever the submission order.
        var picks: [[String]] = []
        for names in [["a", "b", "c"], ["c", "b", "a"], ["b", "c", "a"]] {
            var scheduler = CrossSweepScheduler()
            for name in names { try scheduler.submit(name, cells: Self.cells(name, 3), now: 0) }
            picks.append(scheduler.fill(slots: Self.slots(6), now: 0).map(\.pick.description))
        }
        XCTAssertEqual(picks[0], ["a/a-0", "b/b-0", "c/c-0", "a/a-1", "b/b-1", "c/c-1"])
        XCTAssertEqual(picks[1], picks[0])
        XCTAssertEqual(picks[2], picks[0])
    }

    func testSameEventSequenceGivesSamePicks() throws {
        let first = try simulate(seed: 7, slots: 5)
        XCTAssertEqual(try simulate(seed: 7, slots: 5).picks, first.picks)
        XCTAssertNotEqual(try simulate(seed: 8, slots: 5).picks, first.picks, "the durations do change the picks")
    }

    func testLongRunGivesEqualSweepsEqualSlotSecondsAndRunsEveryCellOnce() throws {
        let run = try simulate(seed: 42, slots: 6)
        // Every cell started once and finished once.
        XCTAssertEqual(run.starts.count, 150)
        XCTAssertTrue(run.starts.values.allSatisfy { $0 == 1 })
        XCTAssertTrue(run.finished)
        // While every sweep has ready cells, each holds 6 / 3 = 2 slots: slot-seconds within 1% of each other.
        let seconds = run.slotSeconds.values
        XCTAssertEqual(run.slotSeconds.count, 3)
        let (low, high) = (seconds.min() ?? 0, seconds.max() ?? 0)
        XCTAssertGreaterThan(low, 1000)
        XCTAssertLessThanOrEqual(high - low, 0.01 * high, "\(run.slotSeconds)")
    }

    func testAgeingLiftsAStarvedSweepOneLevelPerInterval() throws {
        var scheduler = CrossSweepScheduler(agingInterval: 600)
        try scheduler.submit("high", priority: 1, cells: Self.cells("high", 100), now: 0)
        try scheduler.submit("low", cells: Self.cells("low", 10), now: 0)
        scheduler.fill(slots: Self.slots(2), now: 0)
        XCTAssertEqual(running(scheduler), ["high": 2, "low": 0])
        XCTAssertEqual(scheduler.sweeps["low"]?.waitingSince, 0)
        try scheduler.finish("high-0", now: 599)
        XCTAssertEqual(scheduler.effectivePriority(of: "low", now: 599), 0)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: 599).map(\.pick.sweep), ["high"])
        // After one interval starved, low reaches high's level and, running nothing, wins the share.
        try scheduler.finish("high-1", now: 600)
        XCTAssertEqual(scheduler.effectivePriority(of: "low", now: 600), 1)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: 600).map(\.pick.cell), ["low-0"])
        // Served, low is back to its own priority while its cell runs.
        XCTAssertNil(scheduler.sweeps["low"]?.waitingSince)
        try scheduler.finish("high-2", now: 900)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: 900).map(\.pick.sweep), ["high"])
        // Its cell done, low waits again from then: one interval later it gets the next slot.
        try scheduler.finish("low-0", now: 1000)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: 1000).map(\.pick.sweep), ["high"])
        try scheduler.finish("high-3", now: 1599)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: 1599).map(\.pick.sweep), ["high"])
        try scheduler.finish("high-4", now: 1600)
        XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: 1600).map(\.pick.cell), ["low-1"])
        // A paused sweep does not age.
        try scheduler.pause("low", now: 1700)
        try scheduler.finish("low-1", now: 1700)
        XCTAssertNil(scheduler.sweeps["low"]?.waitingSince)
        try scheduler.resume("low", now: 5000)
        XCTAssertEqual(scheduler.effectivePriority(of: "low", now: 5599), 0)
        XCTAssertEqual(scheduler.effectivePriority(of: "low", now: 6200), 2)
    }

    func testWithoutAgeingALowerPriorityWaitsForever() throws {
        var scheduler = CrossSweepScheduler()
        try scheduler.submit("high", priority: 1, cells: Self.cells("high", 100), now: 0)
        try scheduler.submit("low", cells: Self.cells("low", 10), now: 0)
        scheduler.fill(slots: Self.slots(2), now: 0)
        for step in 0..<50 {
            let now = Double(600 * (step + 1))
            try scheduler.finish("high-\(step)", now: now)
            XCTAssertEqual(scheduler.fill(slots: Self.slots(2), now: now).map(\.pick.sweep), ["high"])
            XCTAssertEqual(scheduler.effectivePriority(of: "low", now: now), 0)
        }
    }

    // MARK: - Simulation

    struct Run {
        var picks: [String] = []
        var starts: [String: Int] = [:]
        var slotSeconds: [String: Double] = [:]
        var finished = false
    }

    /// Three sweeps of 50 cells at equal priority on `slots` slots; each cell lasts 10–300 s (seeded). Slot-seconds
    /// per sweep are counted while every sweep still has a ready cell.
    func simulate(seed: UInt64, slots count: Int) throws -> Run {
        var rng = PCG64(seed: seed)
        var scheduler = CrossSweepScheduler()
        var run = Run()
        let names = ["a", "b", "c"]
        for (index, name) in names.enumerated() {
            try scheduler.submit(name, cells: Self.cells(name, 50), now: Double(index))
        }
        var ends: [String: Double] = [:]  // slot → when its cell ends
        var now = 2.0
        let slots = Self.slots(count)
        while true {
            for (slot, pick) in scheduler.fill(slots: slots, now: now) {
                run.picks.append(pick.description)
                run.starts[pick.cell, default: 0] += 1
                ends[slot] = now + Double(10 + rng.next() % 291)
            }
            guard let next = ends.min(by: { ($0.value, $0.key) < ($1.value, $1.key) }) else { break }
            if names.allSatisfy({ !scheduler.ready(of: $0).isEmpty }) {
                for (name, sweep) in scheduler.sweeps {
                    run.slotSeconds[name, default: 0] += Double(sweep.running.count) * (next.value - now)
                }
            }
            now = next.value
            ends[next.key] = nil
            guard let cell = scheduler.slots[next.key] else { break }
            try scheduler.finish(cell, now: now)
        }
        run.finished = names.allSatisfy(scheduler.isFinished) && scheduler.slots.isEmpty
        return run
    }
}
