// SchedulerTests: the coordinator's pure state machine under a manual clock — assignment, fencing, expiry, restart.
import CoordinatorKit
import WireProtocol
import XCTest

/// Drives `Scheduler` with hand-made messages and times (seconds) and checks the actions it returns
/// (docs/protocol.md: sessions, fencing, requeue, exactly-once completion).
final class SchedulerTests: XCTestCase {
    static let dataset = ArtifactRef(name: "dataset.h5", sha256: String(repeating: "d", count: 64), size: 1000)
    static let stage1 = ArtifactRef(name: "stage1.h5", sha256: String(repeating: "e", count: 64), size: 500)
    let peerA: PeerID = [1]
    let peerB: PeerID = [2]

    static func cellID(_ n: Int) -> String { String(repeating: String(n), count: 64) }

    static func cell(_ n: Int, variant: String = "v", seed: UInt64 = 42, stage: String = "2", dependsOn: String? = nil)
        -> CellRecord
    {
        CellRecord(
            id: cellID(n), variant: variant, seed: seed, stage: stage, configJSON: "{}", dependsOn: dependsOn,
            position: n, epochs: 10)
    }

    func makeScheduler(
        _ cells: [CellRecord], files: [CellFileRecord] = [], artifacts: [String: Int64] = [:], now: Double = 0
    ) -> Scheduler {
        var held = artifacts
        held[Self.dataset.sha256] = Self.dataset.size
        return Scheduler(
            settings: CoordinatorSettings(), incarnation: "1", cells: cells, files: files, artifacts: held,
            dataset: Self.dataset, stage1Checkpoint: Self.stage1, now: now)
    }

    func hello(_ worker: String, incarnation: String = "aa", slots: Int = 1, resuming: [JobProgress] = []) -> Message {
        .hello(
            Hello(
                worker: worker, incarnation: incarnation, host: "h", threads: 1, gpu: nil, slots: slots,
                codeVersion: "t", blasCore: "x", resuming: resuming))
    }

    func assigns(_ actions: [SchedulerAction]) -> [(PeerID, Assign)] {
        actions.compactMap { if case .send(let peer, .assign(let a)) = $0 { (peer, a) } else { nil } }
    }

    func sent(_ actions: [SchedulerAction], to peer: PeerID) -> [Message] {
        actions.compactMap { if case .send(let p, let m) = $0, p == peer { m } else { nil } }
    }

    func report(_ cell: String, attempt: Int, epoch: Int) -> Message {
        .metrics(
            MetricsReport(
                cell: cell, attempt: attempt, seq: epoch, epoch: epoch, valMacroF1: 0.5, valLoss: 1, trainLoss: 1,
                seconds: 2, record: "{}"))
    }

    func testHelloGetsWelcomeThenOneAssignmentPerSlot() {
        var scheduler = makeScheduler([Self.cell(1), Self.cell(2), Self.cell(3)])
        let actions = scheduler.handle(hello("w1", slots: 2), from: peerA, now: 0)
        let messages = sent(actions, to: peerA)
        guard case .welcome(let welcome) = messages.first else {
            return XCTFail("WELCOME must come first: \(messages)")
        }
        XCTAssertEqual(welcome.heartbeatMs, 1000)
        XCTAssertEqual(welcome.liveness, 5)
        let given = assigns(actions)
        XCTAssertEqual(given.map(\.1.cell), [Self.cellID(1), Self.cellID(2)])
        XCTAssertEqual(given.map(\.1.attempt), [1, 1])
        XCTAssertEqual(given.first?.1.stage1, Self.stage1)
        XCTAssertEqual(scheduler.cells[Self.cellID(3)]?.state, .pending)
    }

    func testMessagesWithoutSessionGetDisconnect() {
        var scheduler = makeScheduler([Self.cell(1)])
        let actions = scheduler.handle(.heartbeat(Heartbeat()), from: peerA, now: 0)
        XCTAssertEqual(sent(actions, to: peerA), [.disconnect(Disconnect(reason: "unknown session"))])
        XCTAssertTrue(actions.contains(.count("unknown_session")))
    }

    func testMetricsOfCurrentAttemptAreStoredThenAcknowledged() throws {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let actions = scheduler.handle(report(Self.cellID(1), attempt: 1, epoch: 1), from: peerA, now: 1)
        let storeIndex = try XCTUnwrap(actions.firstIndex { if case .storeMetrics = $0 { true } else { false } })
        let ackIndex = try XCTUnwrap(actions.firstIndex { if case .send(_, .metricsAck) = $0 { true } else { false } })
        XCTAssertLessThan(storeIndex, ackIndex, "metrics are persisted before they are acknowledged")
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.epochsDone, 1)
        // Another attempt number is fenced: not stored, answered with CANCEL.
        let stale = scheduler.handle(report(Self.cellID(1), attempt: 7, epoch: 2), from: peerA, now: 2)
        XCTAssertFalse(stale.contains { if case .storeMetrics = $0 { true } else { false } })
        XCTAssertTrue(stale.contains(.count("stale_metrics")))
        XCTAssertEqual(sent(stale, to: peerA).count, 1)
    }

    func testCommandCellsGetTheirCommandAndTimeoutAndTheirLogLinesAreKeptForTheCurrentAttemptOnly() {
        var held = [Self.dataset.sha256: Self.dataset.size]
        held[Self.stage1.sha256] = Self.stage1.size
        let command = CellCommand(argv: ["python3", "t.py", "--seed", "42", "--out", "{out}"], timeoutSeconds: 30)
        var scheduler = Scheduler(
            settings: CoordinatorSettings(), incarnation: "1", cells: [Self.cell(1), Self.cell(2)], files: [],
            artifacts: held, dataset: Self.dataset, stage1Checkpoint: Self.stage1, now: 0,
            commands: [Self.cellID(1): command])
        let given = assigns(scheduler.handle(hello("w1", slots: 2), from: peerA, now: 0)).map(\.1)
        XCTAssertEqual(given.map(\.command), [command.argv, nil])
        XCTAssertEqual(given.map(\.timeoutSeconds), [30, nil])
        let lines = ["epoch 1", "epoch 2"]
        let current = scheduler.handle(
            .log(LogLines(cell: Self.cellID(1), attempt: 1, lines: lines)), from: peerA, now: 1)
        XCTAssertEqual(current.count, 1)
        guard case .appendLog(let cell, let attempt, let appended) = current.first else { return XCTFail("\(current)") }
        XCTAssertEqual([cell.id, "\(attempt)"] + appended, [Self.cellID(1), "1"] + lines)
        XCTAssertEqual(
            scheduler.handle(.log(LogLines(cell: Self.cellID(1), attempt: 2, lines: lines)), from: peerA, now: 1),
            [.count("stale_log")])
        XCTAssertEqual(
            scheduler.handle(.log(LogLines(cell: Self.cellID(1), attempt: 1, lines: lines)), from: peerB, now: 1),
            [.count("unknown_session"), .send(peerB, .disconnect(.unknownSession))])
    }

    func testAWorkerWithZeroSlotsIsNeverAssignedACell() {
        var scheduler = makeScheduler([Self.cell(1), Self.cell(2)])
        let welcome = scheduler.handle(hello("w0", slots: 0), from: peerA, now: 0)
        XCTAssertTrue(
            sent(welcome, to: peerA).contains { if case .welcome = $0 { true } else { false } },
            "it still gets a session")
        XCTAssertEqual(assigns(welcome).count, 0)
        XCTAssertEqual(assigns(scheduler.tick(now: 1)).count, 0)
        XCTAssertEqual(scheduler.sessions.values.first?.slots, 0)
        // Cells go to a worker with slots as soon as one comes.
        XCTAssertEqual(assigns(scheduler.handle(hello("w1"), from: peerB, now: 2)).map(\.0), [peerB])
    }

    func testAZeroSlotWorkerMayStillResumeItsRunningCell() {
        var scheduler = makeScheduler([Self.cell(1), Self.cell(2)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let back = scheduler.handle(
            hello(
                "w1", incarnation: "aa", slots: 0, resuming: [JobProgress(cell: Self.cellID(1), attempt: 1, epoch: 2)]),
            from: peerB, now: 1)
        XCTAssertEqual(assigns(back).count, 0)
        XCTAssertFalse(sent(back, to: peerB).contains { if case .cancel = $0 { true } else { false } })
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.state, .running)
        XCTAssertEqual(scheduler.cells[Self.cellID(2)]?.state, .pending)
    }

    func testLogMessagesOfACellAreLimitedToAboutOneASecond() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let flood = (0..<20).map { _ in
            scheduler.handle(.log(LogLines(cell: Self.cellID(1), attempt: 1, lines: ["x"])), from: peerA, now: 1)
        }
        let kept = flood.filter { if case .appendLog = $0.first { true } else { false } }
        XCTAssertEqual(kept.count, Int(Scheduler.logBurst), "a burst, then nothing within the second")
        XCTAssertTrue(flood.last?.contains(.count("dropped_log_rate")) ?? false)
        let later = scheduler.handle(
            .log(LogLines(cell: Self.cellID(1), attempt: 1, lines: ["y"])), from: peerA, now: 2)
        XCTAssertTrue(later.contains { if case .appendLog = $0 { true } else { false } }, "one a second gets through")
    }

    func testStaleTrafficIsLoggedThroughTheThrottle() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let stale = scheduler.handle(report(Self.cellID(1), attempt: 9, epoch: 1), from: peerA, now: 1)
        XCTAssertFalse(stale.contains { if case .log = $0 { true } else { false } }, "never an unthrottled line")
        XCTAssertTrue(
            stale.contains { if case .logRepeated(_, kind: "stale_metrics") = $0 { true } else { false } }, "\(stale)")
    }

    func testSilentWorkerIsDeclaredDeadAndItsCellResumesElsewhereFromTheLastCheckpoint() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        _ = scheduler.handle(report(Self.cellID(1), attempt: 1, epoch: 3), from: peerA, now: 1)
        let last = ArtifactRef(name: "last.h5", sha256: String(repeating: "f", count: 64), size: 42)
        _ = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 3, file: last, peer: peerA)
        _ = scheduler.handle(hello("w2", incarnation: "bb"), from: peerB, now: 2)
        XCTAssertTrue(assigns(scheduler.tick(now: 5.5)).isEmpty, "within the liveness window nothing moves")
        let actions = scheduler.tick(now: 6.5)
        XCTAssertTrue(
            actions.contains {
                if case .saveCell(_, nil, let end?) = $0 { end.outcome == "lost" && end.attempt == 1 } else { false }
            })
        // w2 has been silent too (last heard at 2 s) but is still within its window at 6.5 s.
        let given = assigns(actions)
        XCTAssertEqual(given.count, 1)
        XCTAssertEqual(given.first?.0, peerB)
        XCTAssertEqual(given.first?.1.attempt, 2)
        XCTAssertEqual(given.first?.1.resume, last)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.epochsDone, 3)
    }

    func testLateResultsOfASupersededAttemptAreFenced() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        _ = scheduler.handle(hello("w2", incarnation: "bb"), from: peerB, now: 5)
        let requeued = scheduler.tick(now: 6)
        XCTAssertEqual(assigns(requeued).first?.1.attempt, 2)
        // w1 comes back on a new connection with its old job: CANCEL, no takeover.
        let peerA2: PeerID = [3]
        let back = scheduler.handle(
            hello("w1", resuming: [JobProgress(cell: Self.cellID(1), attempt: 1, epoch: 4)]), from: peerA2, now: 7)
        XCTAssertTrue(
            sent(back, to: peerA2).contains(
                .cancel(Cancel(cell: Self.cellID(1), attempt: 1, reason: "attempt 1 was superseded by attempt 2"))))
        XCTAssertTrue(back.contains(.count("fenced_resume")))
        let late = scheduler.handle(
            .done(Done(cell: Self.cellID(1), attempt: 1, summary: "{}", files: [])), from: peerA2, now: 8)
        XCTAssertEqual(sent(late, to: peerA2), [.doneAck(DoneAck(cell: Self.cellID(1), attempt: 1, status: .stale))])
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.state, .running)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.attempt, 2)
    }

    func testDoneNeedsEveryFileAndHappensExactlyOnce() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let best = ArtifactRef(name: "best.h5", sha256: String(repeating: "b", count: 64), size: 10)
        let done = Message.done(
            Done(cell: Self.cellID(1), attempt: 1, summary: "{\"status\":\"completed\"}", files: [best]))
        XCTAssertEqual(
            sent(scheduler.handle(done, from: peerA, now: 1), to: peerA),
            [.doneAck(DoneAck(cell: Self.cellID(1), attempt: 1, status: .missingFiles))])
        let stored = scheduler.handle(
            .offer(Offer(cell: Self.cellID(1), attempt: 1, epoch: 2, file: best)), from: peerA, now: 2)
        XCTAssertEqual(stored, [.acceptOffer(peerA, Offer(cell: Self.cellID(1), attempt: 1, epoch: 2, file: best))])
        _ = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 2, file: best, peer: peerA)
        let finished = scheduler.handle(done, from: peerA, now: 3)
        XCTAssertEqual(finished.filter { if case .finishCell = $0 { true } else { false } }.count, 1)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.state, .done)
        let again = scheduler.handle(done, from: peerA, now: 4)
        XCTAssertEqual(
            again, [.send(peerA, .doneAck(DoneAck(cell: Self.cellID(1), attempt: 1, status: .ok)))],
            "a repeated DONE changes nothing")
        XCTAssertTrue(scheduler.isFinished)
    }

    func testFailuresAreRetriedUpToTheLimitAndDeterministicOnesFailAtOnce() {
        var scheduler = makeScheduler([Self.cell(1), Self.cell(2)])
        _ = scheduler.handle(hello("w1", slots: 2), from: peerA, now: 0)
        for attempt in 1...3 {
            let actions = scheduler.handle(
                .failed(Failed(cell: Self.cellID(1), attempt: attempt, reason: "disk full", deterministic: false)),
                from: peerA, now: Double(attempt))
            if attempt < 3 { XCTAssertEqual(assigns(actions).first?.1.attempt, attempt + 1) }
        }
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.state, .failed)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.reason, "3 attempts failed; last: disk full")
        _ = scheduler.handle(
            .failed(Failed(cell: Self.cellID(2), attempt: 1, reason: "diverged at epoch 2", deterministic: true)),
            from: peerA, now: 5)
        XCTAssertEqual(scheduler.cells[Self.cellID(2)]?.state, .failed)
        XCTAssertEqual(scheduler.cells[Self.cellID(2)]?.reason, "diverged at epoch 2")
        XCTAssertTrue(scheduler.isFinished)
        // `ablate status --connect` shows why (STATUS_REPLY rows carry a failed cell's reason).
        XCTAssertEqual(
            scheduler.statusReply(now: 6).rows.map(\.reason),
            ["3 attempts failed; last: disk full", "diverged at epoch 2"])
    }

    func testAFailureReasonIsKeptOnOneLineWithoutControlCharacters() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let reason = "exit 4; last output:\nFAKE: 9/9 done\n\u{1B}[31mRED \u{202E}evil"
        let actions = scheduler.handle(
            .failed(Failed(cell: Self.cellID(1), attempt: 1, reason: reason, deterministic: true)), from: peerA, now: 1)
        let stored = scheduler.cells[Self.cellID(1)]?.reason ?? ""
        XCTAssertEqual(stored, "exit 4; last output: | FAKE: 9/9 done | \\u{1B}[31mRED \\u{202E}evil")
        for case .log(let line, _) in actions { XCTAssertFalse(line.contains("\n") || line.contains("\u{1B}"), line) }
    }

    func testAfterARestartARunningCellWaitsForItsWorkerThenIsRequeued() {
        var running = Self.cell(1)
        running.state = .running
        running.attempt = 2
        running.worker = "w1"
        var other = Self.cell(2)
        other.state = .running
        other.attempt = 1
        other.worker = "w9"
        var scheduler = makeScheduler([running, other], now: 100)
        let back = scheduler.handle(
            hello("w1", resuming: [JobProgress(cell: Self.cellID(1), attempt: 2, epoch: 5)]), from: peerA, now: 101)
        XCTAssertTrue(assigns(back).isEmpty, "the resumed cell keeps its attempt; the other still waits for its worker")
        XCTAssertFalse(sent(back, to: peerA).contains { if case .cancel = $0 { true } else { false } })
        for time in [104.0, 108, 112, 114.5] { _ = scheduler.handle(.heartbeat(Heartbeat()), from: peerA, now: time) }
        XCTAssertEqual(scheduler.cells[Self.cellID(2)]?.state, .running, "within the 15 s restart grace the cell waits")
        let later = scheduler.tick(now: 115.5)
        XCTAssertTrue(
            later.contains {
                if case .saveCell(let c, nil, let end?) = $0 {
                    c.id == Self.cellID(2) && end.outcome == "lost"
                } else {
                    false
                }
            })
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.attempt, 2)
        XCTAssertEqual(scheduler.cells[Self.cellID(2)]?.state, .pending, "no free slot: w1 still runs cell 1")
    }

    func testAfterARestartAWorkerThatComesBackWithoutItsCellHasItRequeuedAtOnce() {
        var running = Self.cell(1)
        running.state = .running
        running.attempt = 2
        running.worker = "w1"
        var scheduler = makeScheduler([running], now: 100)
        let back = scheduler.handle(hello("w1", incarnation: "new"), from: peerA, now: 101)
        XCTAssertTrue(
            back.contains {
                if case .saveCell(let c, nil, let end?) = $0 {
                    c.id == Self.cellID(1) && end.outcome == "lost"
                } else {
                    false
                }
            },
            "requeued at the HELLO, not 15 s later: \(back)")
        XCTAssertEqual(assigns(back).map(\.1.attempt), [3], "and handed out again at once")
    }

    func testReconnectOfTheSameProcessKeepsItsJobs() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let peerA2: PeerID = [9]
        let actions = scheduler.handle(
            hello("w1", resuming: [JobProgress(cell: Self.cellID(1), attempt: 1, epoch: 2)]), from: peerA2, now: 3)
        XCTAssertFalse(
            actions.contains { if case .saveCell(_, _, let end?) = $0 { end.outcome == "lost" } else { false } })
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.attempt, 1)
        let metrics = scheduler.handle(report(Self.cellID(1), attempt: 1, epoch: 3), from: peerA2, now: 4)
        XCTAssertTrue(metrics.contains { if case .storeMetrics = $0 { true } else { false } })
        // The old connection's routing id no longer has a session.
        XCTAssertFalse(scheduler.isLive(peerA))
    }

    func testStageTwoCellsWaitForTheStageOneJobAndFailWithIt() {
        let stage1 = Self.cell(1, variant: "stage1", stage: "1")
        var scheduler = makeScheduler([stage1, Self.cell(2, dependsOn: Self.cellID(1))])
        let first = scheduler.handle(hello("w1", slots: 2), from: peerA, now: 0)
        XCTAssertEqual(assigns(first).map(\.1.cell), [Self.cellID(1)])
        XCTAssertNil(assigns(first).first?.1.stage1, "the stage-1 job needs no stage-1 checkpoint")
        let best = ArtifactRef(name: "best.h5", sha256: String(repeating: "c", count: 64), size: 77)
        _ = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 4, file: best, peer: peerA)
        let done = scheduler.handle(
            .done(Done(cell: Self.cellID(1), attempt: 1, summary: "{}", files: [best])), from: peerA, now: 1)
        let given = assigns(done)
        XCTAssertEqual(given.map(\.1.cell), [Self.cellID(2)])
        XCTAssertEqual(given.first?.1.stage1, ArtifactRef(name: "stage1.h5", sha256: best.sha256, size: 77))

        var failing = makeScheduler([stage1, Self.cell(2, dependsOn: Self.cellID(1))])
        _ = failing.handle(hello("w1"), from: peerA, now: 0)
        _ = failing.handle(
            .failed(Failed(cell: Self.cellID(1), attempt: 1, reason: "bad config", deterministic: true)), from: peerA,
            now: 1)
        XCTAssertEqual(failing.cells[Self.cellID(2)]?.state, .failed)
        XCTAssertTrue(failing.isFinished)
    }

    func testHeartbeatsGoToEverySessionOncePerInterval() {
        var scheduler = makeScheduler([])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        _ = scheduler.handle(hello("w2", incarnation: "bb"), from: peerB, now: 0)
        XCTAssertEqual(
            scheduler.tick(now: 0.1).filter { if case .send(_, .heartbeat) = $0 { true } else { false } }.count, 2)
        XCTAssertEqual(
            scheduler.tick(now: 0.5).filter { if case .send(_, .heartbeat) = $0 { true } else { false } }.count, 0)
        XCTAssertEqual(
            scheduler.tick(now: 1.2).filter { if case .send(_, .heartbeat) = $0 { true } else { false } }.count, 2)
    }

    func testReleasedCellIsRequeuedAtOnceWithoutAFailureAndFenced() throws {
        var scheduler = makeScheduler([Self.cell(1)])
        XCTAssertEqual(assigns(scheduler.handle(hello("a"), from: peerA, now: 0)).map(\.1.attempt), [1])
        XCTAssertTrue(assigns(scheduler.handle(hello("b"), from: peerB, now: 0.5)).isEmpty)
        let actions = scheduler.handle(
            .release(Release(cell: Self.cellID(1), attempt: 1, reason: "stopping")), from: peerA, now: 1)
        let ended = actions.compactMap { if case .saveCell(_, _, let ending?) = $0 { ending } else { nil } }
        XCTAssertEqual(ended.map(\.outcome), ["lost"])
        XCTAssertTrue(ended.first?.reason?.hasPrefix("released by its worker") ?? false)
        XCTAssertEqual(ended.first?.attempt, 1)
        let given = assigns(actions)
        XCTAssertEqual(given.map(\.0), [peerB], "requeued at once on the other worker, not back to the stopping one")
        XCTAssertEqual(given.map(\.1.attempt), [2])
        let cell = try XCTUnwrap(scheduler.cells[Self.cellID(1)])
        XCTAssertEqual(cell.failures, 0, "a release is not a failure")
        XCTAssertEqual(cell.worker, "b")
        // A repeated or late RELEASE of the old attempt changes nothing.
        let stale = scheduler.handle(
            .release(Release(cell: Self.cellID(1), attempt: 1, reason: "stopping")), from: peerA, now: 2)
        XCTAssertTrue(stale.contains(.count("stale_release")))
        XCTAssertTrue(assigns(stale).isEmpty)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.state, .running)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.attempt, 2)
        // A RELEASE naming the current attempt from a session that does not hold it is fenced too.
        let foreign = scheduler.handle(
            .release(Release(cell: Self.cellID(1), attempt: 2, reason: "stopping")), from: peerA, now: 3)
        XCTAssertTrue(foreign.contains(.count("stale_release")))
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.worker, "b")
    }

    func testWhenTheLastCellEndsEverySessionIsToldTheSweepIsFinishedAndLaterHellosAreWelcomedAsFinished() {
        var scheduler = makeScheduler([Self.cell(1)])
        guard case .welcome(let first)? = sent(scheduler.handle(hello("a"), from: peerA, now: 0), to: peerA).first
        else {
            return XCTFail("WELCOME expected")
        }
        XCTAssertNil(first.sweepFinished, "a sweep with cells left says nothing of finishing")
        _ = scheduler.handle(hello("b", slots: 0), from: peerB, now: 0.5)
        XCTAssertEqual(sent(scheduler.tick(now: 0.6), to: peerB), [.heartbeat(Heartbeat())])
        let done = Message.done(Done(cell: Self.cellID(1), attempt: 1, summary: "{}", files: []))
        XCTAssertEqual(
            sent(scheduler.handle(done, from: peerA, now: 1), to: peerA),
            [.doneAck(DoneAck(cell: Self.cellID(1), attempt: 1, status: .ok))])
        let actions = scheduler.tick(now: 1.1)
        XCTAssertEqual(sent(actions, to: peerA).last, .disconnect(.sweepFinished))
        XCTAssertEqual(sent(actions, to: peerB).last, .disconnect(.sweepFinished))
        XCTAssertTrue(scheduler.sessions.isEmpty, "the sessions end with it")
        XCTAssertFalse(
            scheduler.tick(now: 2.2).contains { if case .send(_, .disconnect) = $0 { true } else { false } },
            "said once")
        // A HELLO afterwards (a coordinator that keeps serving) opens a session that is told at once.
        guard
            case .welcome(let late)? = sent(
                scheduler.handle(hello("a", incarnation: "bb"), from: peerA, now: 3), to: peerA
            ).first
        else {
            return XCTFail("WELCOME expected")
        }
        XCTAssertEqual(late.sweepFinished, true)
        XCTAssertFalse(
            sent(scheduler.tick(now: 4.5), to: peerA).contains(.disconnect(.sweepFinished)),
            "a session opened after the end stays open")
    }

    func testAHelloRightAfterTheLastCellEndedIsWelcomedAsFinishedAndNotDisconnected() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("a"), from: peerA, now: 0)
        _ = scheduler.handle(
            .done(Done(cell: Self.cellID(1), attempt: 1, summary: "{}", files: [])), from: peerA, now: 1)
        // Before the next tick: the open session is told, then the new one is welcomed as finished.
        let actions = scheduler.handle(hello("b"), from: peerB, now: 1.01)
        XCTAssertEqual(sent(actions, to: peerA), [.disconnect(.sweepFinished)])
        guard case .welcome(let welcome)? = sent(actions, to: peerB).first else { return XCTFail("WELCOME expected") }
        XCTAssertEqual(welcome.sweepFinished, true)
        XCTAssertFalse(scheduler.tick(now: 1.1).contains { if case .send(_, .disconnect) = $0 { true } else { false } })
        XCTAssertEqual(scheduler.sessions.count, 1)
    }

    func testStatusRowsGiveAnETAOnlyFromAReportedEpochTime() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("a"), from: peerA, now: 0)
        func eta() -> Double? { scheduler.statusReply(now: 5).rows.first?.etaSeconds }
        XCTAssertNil(eta(), "no report yet")
        for (epoch, seconds) in [(1, 0.0), (2, Double.nan), (3, -1), (4, Double.infinity)] {
            let report = MetricsReport(
                cell: Self.cellID(1), attempt: 1, seq: epoch, epoch: epoch, valMacroF1: 0.5, valLoss: .nan,
                trainLoss: .nan, seconds: seconds, record: "{}")
            _ = scheduler.handle(.metrics(report), from: peerA, now: Double(epoch))
            XCTAssertNil(eta(), "seconds \(seconds) means the epoch time was not reported")
        }
        _ = scheduler.handle(report(Self.cellID(1), attempt: 1, epoch: 5), from: peerA, now: 6)
        XCTAssertEqual(eta(), 10, "5 epochs left × 2 s")
        let row = scheduler.statusReply(now: 7).rows.first
        XCTAssertEqual(row?.state, "running")
        XCTAssertEqual(row?.worker, "a")
        XCTAssertEqual(row?.epoch, 5)
    }
}
