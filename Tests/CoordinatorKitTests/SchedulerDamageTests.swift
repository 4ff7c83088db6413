// SchedulerDamageTests: a damaged resume checkpoint of the coordinator's falls back and costs the cell no attempt.
import CoordinatorKit
import WireProtocol
import XCTest

extension SchedulerTests {
    private typealias T = SchedulerTests
    private var early: ArtifactRef { ArtifactRef(name: "last.h5", sha256: String(repeating: "a", count: 64), size: 40) }
    private var late: ArtifactRef { ArtifactRef(name: "last.h5", sha256: String(repeating: "f", count: 64), size: 42) }

    /// w1 ran attempt 1 to epoch 3 (checkpoints at epochs 1 and 3) and died; attempt 2 went to w2 with the epoch-3
    /// checkpoint, whose copy on the coordinator then fails its check.
    private func requeuedOntoW2() -> Scheduler {
        var scheduler = makeScheduler([T.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        _ = scheduler.fileStored(cell: T.cellID(1), attempt: 1, epoch: 1, file: early, peer: peerA)
        _ = scheduler.fileStored(cell: T.cellID(1), attempt: 1, epoch: 3, file: late, peer: peerA)
        _ = scheduler.handle(hello("w2", incarnation: "bb"), from: peerB, now: 5)
        let given = assigns(scheduler.tick(now: 6.5))
        XCTAssertEqual(given.first?.1.resume, late)
        XCTAssertEqual(given.first?.1.attempt, 2)
        return scheduler
    }

    func testTheRunningAttemptIsCancelledAsLostAndTheNextResumesFromTheEarlierCheckpoint() {
        var scheduler = requeuedOntoW2()
        let fallback = Scheduler.ResumePoint(sha256: early.sha256, epoch: 1, size: early.size)
        let actions = scheduler.artifactDamaged(
            late.sha256, fallbacks: [T.cellID(1): fallback], path: "/s/artifacts/fff", now: 7)
        XCTAssertTrue(
            sent(actions, to: peerB).contains { if case .cancel(let c) = $0 { c.attempt == 2 } else { false } })
        XCTAssertTrue(
            actions.contains {
                if case .saveCell(_, nil, let end?) = $0 { end.outcome == "lost" && end.attempt == 2 } else { false }
            },
            "\(actions)")
        XCTAssertTrue(
            actions.contains {
                if case .log(let line, .warning) = $0 { line.contains("/s/artifacts/fff") } else { false }
            })
        // w2's slot is free again: attempt 3 goes out at once, from the epoch-1 checkpoint, with no failure counted.
        let given = assigns(actions)
        XCTAssertEqual(given.map(\.1.attempt), [3])
        XCTAssertEqual(given.first?.1.resume, early)
        let cell = scheduler.cells[T.cellID(1)]
        XCTAssertEqual(cell?.failures, 0)
        XCTAssertEqual(cell?.resumeEpoch, 1)
        XCTAssertEqual(cell?.epochsDone, 1)
        // A late FAILED of the cancelled attempt is fenced.
        let late = scheduler.handle(
            .failed(Failed(cell: T.cellID(1), attempt: 2, reason: "cannot fetch", deterministic: false)), from: peerB,
            now: 8)
        XCTAssertTrue(late.contains(.count("stale_failed")))
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.failures, 0)
    }

    func testWithoutAnEarlierCheckpointTheCellStartsAfresh() {
        var scheduler = requeuedOntoW2()
        let given = assigns(scheduler.artifactDamaged(late.sha256, fallbacks: [:], path: "/s/artifacts/fff", now: 7))
        XCTAssertEqual(given.map(\.1.attempt), [3])
        XCTAssertNil(given.first?.1.resume)
        XCTAssertEqual(scheduler.cells[T.cellID(1)]?.epochsDone, 0)
        XCTAssertNil(scheduler.cells[T.cellID(1)]?.resumeSHA256)
    }
}
