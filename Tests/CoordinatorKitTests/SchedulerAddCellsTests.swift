// SchedulerAddCellsTests: cells added after start (an adaptive sweep's later seeds) are assigned, and a sweep awaiting its plan does not finish.
import CoordinatorKit
import WireProtocol
import XCTest

final class SchedulerAddCellsTests: XCTestCase {
    typealias T = SchedulerTests
    let peer: PeerID = [7]

    func makeScheduler(_ cells: [CellRecord]) -> Scheduler {
        Scheduler(
            settings: CoordinatorSettings(), incarnation: "1", cells: cells, files: [],
            artifacts: [T.dataset.sha256: T.dataset.size],
            dataset: T.dataset, stage1Checkpoint: T.stage1, now: 0)
    }

    func hello(_ worker: String) -> Message {
        .hello(
            Hello(
                worker: worker, incarnation: "aa", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                blasCore: "x", resuming: []))
    }

    func assigned(_ actions: [SchedulerAction]) -> [String] {
        actions.compactMap { if case .send(_, .assign(let assign)) = $0 { assign.cell } else { nil } }
    }

    func testAwaitingPlanKeepsWorkersThenAddedCellsAreAssignedInOrder() {
        var scheduler = makeScheduler([T.cell(1)])
        scheduler.awaitingPlan = true
        _ = scheduler.handle(hello("a"), from: peer, now: 0)
        let done = Message.done(Done(cell: T.cellID(1), attempt: 1, summary: "{}", files: []))
        _ = scheduler.handle(done, from: peer, now: 1)
        XCTAssertTrue(scheduler.allCellsFinished)
        XCTAssertFalse(scheduler.isFinished, "more cells may come")
        let idle = scheduler.tick(now: 1.5)
        XCTAssertFalse(idle.contains(SchedulerAction.send(peer, .disconnect(.sweepFinished))), "the worker is kept")
        XCTAssertEqual(scheduler.sessions.count, 1)

        // A cell already known is skipped; a running one (left by an earlier coordinator) is requeued first.
        var stale = T.cell(3, seed: 44)
        stale.state = .running
        stale.attempt = 1
        stale.worker = "gone"
        let actions = scheduler.addCells([T.cell(1), T.cell(2, seed: 43), stale], now: 2)
        XCTAssertEqual(scheduler.order, [T.cellID(1), T.cellID(2), T.cellID(3)])
        XCTAssertEqual(assigned(actions), [T.cellID(2)], "the free slot takes the first added cell")
        XCTAssertTrue(
            actions.contains {
                if case .saveCell(let cell, .none, let ending?) = $0 {
                    cell.id == T.cellID(3) && ending.outcome == "lost"
                } else {
                    false
                }
            })
        XCTAssertEqual(scheduler.cells[T.cellID(3)]?.state, .pending)
        XCTAssertFalse(scheduler.allCellsFinished)

        // Once the plan is final and every cell has ended, the sweep finishes as before.
        _ = scheduler.handle(.done(Done(cell: T.cellID(2), attempt: 1, summary: "{}", files: [])), from: peer, now: 3)
        _ = scheduler.handle(.done(Done(cell: T.cellID(3), attempt: 2, summary: "{}", files: [])), from: peer, now: 4)
        XCTAssertTrue(scheduler.allCellsFinished)
        XCTAssertFalse(scheduler.isFinished)
        scheduler.awaitingPlan = false
        XCTAssertTrue(scheduler.isFinished)
        XCTAssertTrue(scheduler.tick(now: 5).contains(SchedulerAction.send(peer, .disconnect(.sweepFinished))))
    }
}
