// SchedulerControlTests: CONTROL on the served sweep with a manual clock — cancel, resume, retry, extend and sweeps.
import CoordinatorKit
import WireProtocol
import XCTest

final class SchedulerControlTests: XCTestCase {
    typealias T = SchedulerTests
    let worker: PeerID = [7]
    let client: PeerID = [9]

    /// Cells 1, 2 of variant `a` and 3, 4 of variant `b` (seeds 1, 2), served as sweep `s`, one worker of 1 slot.
    func makeScheduler() -> Scheduler {
        var scheduler = Scheduler(
            settings: CoordinatorSettings(), incarnation: "1",
            cells: [
                T.cell(1, variant: "a", seed: 1), T.cell(2, variant: "a", seed: 2), T.cell(3, variant: "b", seed: 1),
                T.cell(4, variant: "b", seed: 2),
            ], files: [], artifacts: [T.dataset.sha256: T.dataset.size], dataset: T.dataset,
            stage1Checkpoint: T.stage1, now: 0)
        scheduler.sweepName = "s"
        _ = scheduler.handle(
            .hello(
                Hello(
                    worker: "w", incarnation: "aa", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                    blasCore: "x", resuming: [])), from: worker, now: 0)
        return scheduler
    }

    func request(_ action: ControlAction, variant: String? = nil, sweep: String = "s") -> ControlRequest {
        ControlRequest(requestId: "r", sweep: sweep, action: action, variant: variant)
    }

    func reply(_ actions: [SchedulerAction]) -> ControlReply? {
        actions.lazy.compactMap { if case .send(self.client, .controlReply(let reply)) = $0 { reply } else { nil } }
            .first
    }

    func assigned(_ actions: [SchedulerAction]) -> [String] {
        actions.compactMap { if case .send(_, .assign(let assign)) = $0 { assign.cell } else { nil } }
    }

    func testAnotherSweepNameIsRefusedWithTheServedOne() {
        var scheduler = makeScheduler()
        let actions = scheduler.control(
            request(.cancel, sweep: "x"), from: client, client: "loopback", extension: nil, now: 1)
        XCTAssertEqual(reply(actions)?.error, "no sweep named 'x' (this coordinator serves: s)")
        XCTAssertEqual(
            reply(scheduler.control(request(.cancel, variant: "z"), from: client, client: "c", extension: nil, now: 1))?
                .error, "sweep s has no variant 'z' (variants: a, b)")
    }

    func testCancelStopsRunningCellsWithoutSpendingAnAttemptAndResumeAssignsThem() {
        var scheduler = makeScheduler()
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.state, .running)
        let actions = scheduler.control(
            request(.cancel, variant: "a"), from: client, client: "clients/alice", extension: nil, now: 5)
        // Stored first, then CANCEL to the worker, the attempt ended `cancelled`, and the reply.
        XCTAssertEqual(actions.first, .saveCancelled(["a"]))
        XCTAssertTrue(
            actions.contains(
                .send(worker, .cancel(Cancel(cell: T.cellID(1), attempt: 1, reason: "cancelled by clients/alice")))))
        XCTAssertTrue(
            actions.contains {
                if case .saveCell(let cell, nil, let ending?) = $0 {
                    cell.id == T.cellID(1) && ending.outcome == "cancelled" && cell.state == .pending
                } else {
                    false
                }
            })
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.failures, 0)
        XCTAssertEqual(
            reply(actions)?.result?.message, "cancelled variant a of sweep s: 1 running cell stopped, 2 cells held")
        XCTAssertEqual(reply(actions)?.result?.cells?.map(\.state), ["cancelled", "cancelled"])
        XCTAssertEqual(assigned(actions), [T.cellID(3)], "the freed slot takes a cell of another variant")

        // Variant a's cells are never assigned while cancelled.
        _ = scheduler.handle(.done(Done(cell: T.cellID(3), attempt: 1, summary: "{}", files: [])), from: worker, now: 6)
        XCTAssertEqual(scheduler.cells[T.cellID(4)]?.state, .running)
        let last = scheduler.handle(
            .done(Done(cell: T.cellID(4), attempt: 1, summary: "{}", files: [])), from: worker, now: 7)
        XCTAssertEqual(assigned(last), [])
        XCTAssertEqual(assigned(scheduler.tick(now: 8)), [])
        XCTAssertFalse(scheduler.isFinished, "cancelled cells are not finished")
        XCTAssertFalse(scheduler.tick(now: 9).contains(.send(worker, .disconnect(.sweepFinished))))
        let summary = scheduler.sweepSummary(now: 9)
        XCTAssertEqual(
            [summary.done, summary.running, summary.pending, summary.failed, summary.cancelled], [2, 0, 0, 0, 2])
        XCTAssertEqual(summary.cancelledVariants, ["a"])

        let resumed = scheduler.control(request(.resume), from: client, client: "loopback", extension: nil, now: 10)
        XCTAssertEqual(resumed.first, .saveCancelled([]))
        XCTAssertEqual(reply(resumed)?.result?.message, "resumed sweep s: 2 cells may run again")
        XCTAssertEqual(assigned(resumed), [T.cellID(1)])
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.attempt, 2, "the next attempt, resuming from the checkpoint")
    }

    func testRetryUsesTheOfflineRules() {
        var scheduler = makeScheduler()
        let failed = Failed(cell: T.cellID(1), attempt: 1, reason: "boom", deterministic: true)
        _ = scheduler.handle(.failed(failed), from: worker, now: 1)
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.state, .failed)
        var none = request(.retry, variant: "b")
        none.failed = true
        XCTAssertEqual(
            reply(scheduler.control(none, from: client, client: "c", extension: nil, now: 2))?.error,
            "no failed cell of variant b to retry")
        var all = request(.retry)
        all.failed = true
        let actions = scheduler.control(all, from: client, client: "c", extension: nil, now: 3)
        XCTAssertEqual(reply(actions)?.result?.cells?.map(\.id), [T.cellID(1)])
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.failures, 0)
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.state, .pending)
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.attempt, 1, "attempts are kept")
    }

    func testExtendAddsNewCellsAndReportsExistingOnes() {
        var scheduler = makeScheduler()
        let new = CellRecord(
            id: String(repeating: "9", count: 64), variant: "a", seed: 45, stage: "2", configJSON: "{}", dependsOn: nil,
            position: 0, epochs: 10)
        let candidates = ExtensionCandidates(
            targets: [ExtensionSeed(variant: "a", seed: 2), ExtensionSeed(variant: "a", seed: 45)],
            cells: [
                ExtensionSeed(variant: "a", seed: 2): T.cell(2, variant: "a", seed: 2),
                ExtensionSeed(variant: "a", seed: 45): new,
            ])
        var extend = request(.extend, variant: "a")
        extend.seeds = [2, 45]
        let actions = scheduler.control(extend, from: client, client: "c", extension: candidates, now: 1)
        var stored = new
        stored.position = 5
        XCTAssertEqual(actions.first, .extendPlan(seeds: [ExtensionSeed(variant: "a", seed: 45)], cells: [stored]))
        XCTAssertEqual(reply(actions)?.result?.existing?.map(\.seed), [2])
        XCTAssertEqual(reply(actions)?.result?.cells?.map(\.seed), [45])
        XCTAssertEqual(scheduler.order.last, new.id)
        XCTAssertEqual(
            reply(scheduler.control(extend, from: client, client: "c", extension: nil, now: 2))?.error,
            "this coordinator cannot plan new cells")
        let refused = ExtensionCandidates(refusal: "sweep s collects its seeds adaptively")
        XCTAssertEqual(
            reply(scheduler.control(extend, from: client, client: "c", extension: refused, now: 2))?.error,
            "sweep s collects its seeds adaptively")
    }

    func testOnlyClientKeysMayActWithCurve() {
        XCTAssertNil(CoordinatorServer.controlRefusal(userID: nil, action: .cancel), "no CURVE: every peer may")
        XCTAssertNil(CoordinatorServer.controlRefusal(userID: "clients/alice", action: .cancel))
        XCTAssertEqual(
            CoordinatorServer.controlRefusal(userID: "workers/x", action: .cancel),
            "key workers/x may not cancel: only keys in clients/ may")
    }
}
