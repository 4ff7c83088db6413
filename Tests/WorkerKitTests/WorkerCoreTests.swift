// WorkerCoreTests: the worker's decisions under a manual clock — downloads, routing, cancel, stop, GPUs, reconnect, faults.
import NN
import RunSpec
import TransferKit
import WireProtocol
import WorkerKit
import XCTest

/// Checks WorkerCore with hand-fed messages, thread events and times (seconds): no socket, no thread, no file.
final class WorkerCoreTests: XCTestCase {
    let welcome = Welcome(
        session: "1-1", coordinatorIncarnation: "c1", heartbeatMs: 1000, liveness: 5, chunkBytes: 100, window: 2)

    func id(_ character: Character) -> String { String(repeating: character, count: 64) }

    func ref(_ name: String, _ character: Character, size: Int64 = 1000) -> ArtifactRef {
        ArtifactRef(name: name, sha256: id(character), size: size)
    }

    func core(gpus: [Int] = [], corruptFirstChunk: Bool = false, stopTimeout: Double = 30) -> WorkerCore {
        var options = WorkerOptions(endpoint: "ipc:///nowhere", name: "w0", workDirectory: "/nowhere")
        options.threads = 3
        options.gpus = gpus
        options.slots = max(1, gpus.count)
        options.corruptFirstChunk = corruptFirstChunk
        options.stopTimeout = stopTimeout
        return WorkerCore(options: options, incarnation: "i1", host: "host", blasCore: "generic")
    }

    /// Reports every send among `actions` as queued; returns what the core asks next.
    @discardableResult
    func deliver(_ core: inout WorkerCore, _ actions: [WorkerAction], now: Double, queued: Bool = true)
        -> [WorkerAction]
    {
        var more: [WorkerAction] = []
        for action in actions {
            switch action {
            case .send(let message): core.sent(message, queued: queued, now: now)
            case .sendChunk(let order, let corrupt):
                more += core.sentChunk(order, corrupted: corrupt, queued: queued, now: now)
            default: break
            }
        }
        return more
    }

    /// Starts `core` and opens a session at `now` (HELLO queued, WELCOME received).
    func connect(_ core: inout WorkerCore, now: Double = 0) {
        deliver(&core, core.start(now: now), now: now)
        deliver(&core, core.received(.welcome(welcome), now: now, cached: { _ in true }), now: now)
        XCTAssertTrue(core.isConnected)
    }

    func assignment(
        _ cell: Character, attempt: Int = 1, command: [String]? = ["train"], dataset: ArtifactRef? = nil,
        stage1: ArtifactRef? = nil
    ) throws -> Assign {
        Assign(
            cell: id(cell), attempt: attempt, variant: "v\(cell)", seed: 42,
            config: try TrainingConfig(stage: .stage2).canonicalJSON(),
            dataset: dataset ?? ref("data.h5", "d"), stage1: stage1, resume: nil, command: command)
    }

    /// Assigns a cell whose artifacts are all held and delivers what it sends.
    @discardableResult
    func assign(_ core: inout WorkerCore, _ assign: Assign, now: Double = 1) -> [WorkerAction] {
        let actions = core.received(.assign(assign), now: now, cached: { _ in true })
        deliver(&core, actions, now: now)
        return actions
    }

    func report(_ cell: Character, epoch: Int) -> MetricsReport {
        MetricsReport(
            cell: id(cell), attempt: 1, seq: epoch, epoch: epoch, valMacroF1: 0.5, valLoss: 1, trainLoss: 1, seconds: 1,
            record: "{}")
    }

    func file(_ name: String, _ character: Character, size: Int64 = 1000) -> OutgoingFile {
        OutgoingFile(ref: ref(name, character, size: size), epoch: 1, path: "/outbox/\(id(character))")
    }

    func messages(_ actions: [WorkerAction]) -> [Message] {
        actions.compactMap { if case .send(let message) = $0 { message } else { nil } }
    }

    func chunks(_ actions: [WorkerAction]) -> [(order: ChunkOrder, corrupt: Bool)] {
        actions.compactMap { if case .sendChunk(let order, let corrupt) = $0 { (order, corrupt) } else { nil } }
    }

    func releases(_ actions: [WorkerAction]) -> [String] {
        messages(actions).compactMap { if case .release(let release) = $0 { release.cell } else { nil } }
    }

    func isHello(_ message: Message) -> Bool { if case .hello = message { true } else { false } }

    // MARK: - Artifacts

    func testAnAssignmentFetchesItsMissingArtifactsAndStartsOnlyWhenAllArrived() throws {
        var core = core()
        connect(&core)
        let dataset = ref("data.h5", "d"), stage1 = ref("stage1.h5", "s")
        let job = try assignment("a", command: nil, dataset: dataset, stage1: stage1)
        let assigned = core.received(
            .assign(job), now: 1, cached: { $0.sha256 != dataset.sha256 && $0.sha256 != stage1.sha256 })
        XCTAssertEqual(
            assigned.filter { if case .openDownload = $0 { true } else { false } },
            [.openDownload(dataset), .openDownload(stage1)])
        XCTAssertFalse(assigned.contains { if case .startTraining = $0 { true } else { false } })
        XCTAssertEqual(core.downloads.keys.sorted(), [dataset.sha256, stage1.sha256])
        // A second cell needing the dataset waits for the same download.
        let second = core.received(
            .assign(try assignment("b", command: nil, dataset: dataset)), now: 1, cached: { $0 != dataset })
        XCTAssertFalse(second.contains { if case .openDownload = $0 { true } else { false } })

        XCTAssertEqual(
            core.downloadOpened(sha256: dataset.sha256, complete: false),
            [.requestFetches(sha256: dataset.sha256, window: 2, chunkBytes: 100)])
        XCTAssertEqual(
            core.downloadOpened(sha256: stage1.sha256, complete: false),
            [.requestFetches(sha256: stage1.sha256, window: 2, chunkBytes: 100)])
        let piece = FileChunk(sha256: dataset.sha256, offset: 0, totalSize: 1000, payload: [1, 2, 3])
        XCTAssertEqual(core.received(.data(piece), now: 2, cached: { _ in false }), [.writeDownload(piece)])
        let stray = FileChunk(sha256: id("x"), offset: 0, totalSize: 1000, payload: [1])
        XCTAssertEqual(
            core.received(.data(stray), now: 2, cached: { _ in false }), [], "DATA of no download is ignored")
        XCTAssertEqual(
            core.downloadProgress(sha256: dataset.sha256, .partial),
            [.requestFetches(sha256: dataset.sha256, window: 2, chunkBytes: 100)])

        let fetched = core.downloadProgress(sha256: dataset.sha256, .complete(path: "/cache/d"))
        XCTAssertTrue(fetched.contains(.closeDownload(sha256: dataset.sha256)))
        var config = TrainingConfig(stage: .stage2)
        config.threads = 3
        XCTAssertEqual(
            fetched.filter { if case .startTraining = $0 { true } else { false } },
            [.startTraining(try assignment("b", command: nil, dataset: dataset), config: config)],
            "the cell that waited only for the dataset starts; the other still waits for stage 1")
        let all = core.downloadProgress(sha256: stage1.sha256, .complete(path: "/cache/s"))
        XCTAssertEqual(
            all.filter { if case .startTraining = $0 { true } else { false } }, [.startTraining(job, config: config)])
        XCTAssertEqual(core.liveThreads, [WorkerCore.threadKey(id("a"), 1), WorkerCore.threadKey(id("b"), 1)])
        XCTAssertTrue(core.downloads.isEmpty)
    }

    func testADownloadThatKeepsFailingItsHashFailsTheCellsWaitingForIt() throws {
        var core = core()
        connect(&core)
        let dataset = ref("data.h5", "d")
        _ = core.received(.assign(try assignment("a", dataset: dataset)), now: 1, cached: { _ in false })
        _ = core.downloadOpened(sha256: dataset.sha256, complete: false)
        for _ in 1...3 {
            XCTAssertEqual(
                messages(core.downloadProgress(sha256: dataset.sha256, .corrupt("bad bytes"))), [], "retried")
        }
        let failed = messages(core.downloadProgress(sha256: dataset.sha256, .corrupt("bad bytes")))
        XCTAssertEqual(failed, [.failed(Failed(cell: id("a"), attempt: 1, reason: "bad bytes", deterministic: false))])
        XCTAssertTrue(core.downloads.isEmpty)
    }

    // MARK: - Routing

    func testACreditGoesToTheJobWhoseFileItNamesAndAnUnknownOneIsIgnored() throws {
        var core = core()
        connect(&core)
        assign(&core, try assignment("a"))
        assign(&core, try assignment("b"))
        let fileA = file("last.h5", "1"), fileB = file("last.h5", "2", size: 250)
        deliver(
            &core,
            core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: [fileA]), now: 2),
            now: 2)
        deliver(
            &core,
            core.handle(.epoch(cell: id("b"), attempt: 1, report: report("b", epoch: 1), files: [fileB]), now: 2),
            now: 2)

        let toB = chunks(
            core.received(
                .credit(Credit(sha256: fileB.ref.sha256, offset: 0, chunks: 4)), now: 3, cached: { _ in true }))
        XCTAssertEqual(
            toB.map(\.order),
            [
                ChunkOrder(sha256: fileB.ref.sha256, path: fileB.path, offset: 0, length: 100, totalSize: 250),
                ChunkOrder(sha256: fileB.ref.sha256, path: fileB.path, offset: 100, length: 100, totalSize: 250),
                ChunkOrder(sha256: fileB.ref.sha256, path: fileB.path, offset: 200, length: 50, totalSize: 250),
            ])
        XCTAssertEqual(
            core.received(.credit(Credit(sha256: id("9"), offset: 0, chunks: 4)), now: 3, cached: { _ in true }), [])
        let toA = chunks(
            core.received(
                .credit(Credit(sha256: fileA.ref.sha256, offset: 500, chunks: 1)), now: 3, cached: { _ in true }))
        XCTAssertEqual(
            toA.map(\.order),
            [ChunkOrder(sha256: fileA.ref.sha256, path: fileA.path, offset: 500, length: 100, totalSize: 1000)])

        // A newer last.h5 replaces A's: the old file's hash is no longer routed to A.
        let newer = file("last.h5", "3")
        deliver(
            &core,
            core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 2), files: [newer]), now: 4),
            now: 4)
        XCTAssertEqual(
            core.received(
                .credit(Credit(sha256: fileA.ref.sha256, offset: 600, chunks: 1)), now: 4, cached: { _ in true }), [])
        XCTAssertEqual(
            chunks(
                core.received(
                    .credit(Credit(sha256: newer.ref.sha256, offset: 0, chunks: 1)), now: 4, cached: { _ in true })
            ).count, 1)

        // STORED goes to B alone: its snapshot is discarded, and its outcome follows once its thread finished.
        deliver(&core, core.handle(.finished(cell: id("b"), attempt: 1, summary: "{}"), now: 5), now: 5)
        let stored = core.received(
            .stored(Stored(sha256: fileB.ref.sha256, status: .ok)), now: 5, cached: { _ in true })
        XCTAssertEqual(stored.first, .discardSnapshot(path: fileB.path))
        XCTAssertEqual(messages(stored), [.done(Done(cell: id("b"), attempt: 1, summary: "{}", files: [fileB.ref]))])
    }

    func testMetricsPrecedeTheFaultPointBeforeTheirCheckpointIsOffered() throws {
        var core = core()
        connect(&core)
        assign(&core, try assignment("a"))
        let last = file("last.h5", "1")
        let actions = core.handle(
            .epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: [last]), now: 2)
        XCTAssertEqual(
            actions,
            [
                .send(.metrics(report("a", epoch: 1))), .reachFault(.metricsBeforeCheckpoint),
                .send(.offer(Offer(cell: id("a"), attempt: 1, epoch: 1, file: last.ref))),
            ])
    }

    func testCancelStopsTheJobAndLetsGoOfItsCell() throws {
        var core = core(gpus: [0])
        connect(&core)
        assign(&core, try assignment("a", attempt: 2))
        XCTAssertEqual(
            core.received(.cancel(Cancel(cell: id("a"), attempt: 1, reason: "old")), now: 2, cached: { _ in true }), [],
            "a CANCEL of another attempt is ignored")
        XCTAssertNotNil(core.jobs[id("a")])
        let cancelled = core.received(
            .cancel(Cancel(cell: id("a"), attempt: 2, reason: "requeued")), now: 2, cached: { _ in true })
        XCTAssertEqual(cancelled.first, .cancelJob(cell: id("a"), attempt: 2))
        XCTAssertNil(core.jobs[id("a")])
        XCTAssertEqual(core.activity.jobs, [])
        let late = core.handle(.epoch(cell: id("a"), attempt: 2, report: report("a", epoch: 1), files: []), now: 3)
        XCTAssertEqual(messages(late), [], "what the thread still reports is not sent")
        _ = core.handle(.cancelled(cell: id("a"), attempt: 2), now: 3)
        XCTAssertTrue(core.liveThreads.isEmpty)
        let heartbeat = messages(core.tick(now: 4))
        XCTAssertEqual(heartbeat, [.heartbeat(Heartbeat(progress: []))], "the cell is no longer reported as held")
    }

    // MARK: - Stopping

    func testAStopCancelsTheJobsFlushesAndReleasesThemOnceEveryThreadReturned() throws {
        var core = core()
        connect(&core)
        assign(&core, try assignment("a"))
        assign(&core, try assignment("b"))
        deliver(
            &core, core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: []), now: 2),
            now: 2)

        let stop = core.stop(now: 10)
        XCTAssertEqual(
            stop.filter { if case .cancelJob = $0 { true } else { false } },
            [.cancelJob(cell: id("a"), attempt: 1), .cancelJob(cell: id("b"), attempt: 1)])
        XCTAssertTrue(core.stopping)
        XCTAssertFalse(core.isStopped)
        XCTAssertEqual(
            releases(core.received(.assign(try assignment("c")), now: 10.5, cached: { _ in true })), [id("c")],
            "a cell assigned while stopping is released at once")
        XCTAssertNil(core.jobs[id("c")])

        _ = core.handle(.cancelled(cell: id("a"), attempt: 1), now: 11)
        _ = core.received(.metricsAck(MetricsAck(cell: id("a"), attempt: 1, seq: 1)), now: 11, cached: { _ in true })
        XCTAssertEqual(releases(core.tick(now: 11)), [], "b's thread is still running")
        XCTAssertFalse(core.isStopped)
        _ = core.handle(.cancelled(cell: id("b"), attempt: 1), now: 12)
        let end = core.tick(now: 12)
        XCTAssertEqual(releases(end), [id("a"), id("b")])
        XCTAssertEqual(end.last, .lingerBeforeClose)
        XCTAssertTrue(core.isStopped)
    }

    func testAStopEndsTheProcessWhenAThreadOutlivesTheTimeout() throws {
        var core = core(stopTimeout: 5)
        connect(&core)
        assign(&core, try assignment("a"))
        XCTAssertFalse(core.stop(now: 10).contains(.exitAtOnce))
        XCTAssertFalse(core.tick(now: 14.9).contains(.exitAtOnce))
        XCTAssertFalse(core.isStopped)
        let late = core.tick(now: 15)
        XCTAssertEqual(late.last, .exitAtOnce)
        XCTAssertEqual(releases(late), [], "nothing is released under a thread still running")
        XCTAssertTrue(core.isStopped)
    }

    func testAStopWithNoJobsEndsAtOnce() {
        var core = core()
        connect(&core)
        XCTAssertEqual(core.stop(now: 1), [.lingerBeforeClose])
        XCTAssertTrue(core.isStopped)
    }

    // MARK: - GPUs

    func testCommandJobsArePinnedToDistinctGPUsAndAGPUIsFreedWhenItsProcessEnds() throws {
        var core = core(gpus: [0, 1])
        connect(&core)
        func gpu(_ actions: [WorkerAction]) -> Int?? {
            for case .startCommand(_, _, let gpu) in actions { return .some(gpu) }
            return nil
        }
        XCTAssertEqual(gpu(assign(&core, try assignment("a"))), .some(0))
        XCTAssertEqual(gpu(assign(&core, try assignment("b"))), .some(1))
        _ = core.handle(.finished(cell: id("a"), attempt: 1, summary: "{}"), now: 2)
        XCTAssertNotNil(core.jobs[id("a")], "a finished job is held until its DONE is acknowledged")
        XCTAssertEqual(gpu(assign(&core, try assignment("c"))), .some(0), "GPU 0 is free again, GPU 1 is still b's")
        _ = core.handle(.failed(cell: id("b"), attempt: 1, reason: "exit 1", deterministic: true), now: 3)
        XCTAssertEqual(gpu(assign(&core, try assignment("d"))), .some(1))
    }

    // MARK: - Connection

    func testADisconnectSaysHelloAgainWithTheJobsInHandAndTheNewSessionResends() throws {
        var core = core()
        connect(&core)
        assign(&core, try assignment("a"))
        deliver(
            &core, core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: []), now: 2),
            now: 2)

        let again = core.received(.disconnect(Disconnect(reason: "unknown session")), now: 3, cached: { _ in true })
        XCTAssertTrue(again.contains(.reopenSocket))
        let hello = try XCTUnwrap(messages(again).first)
        guard case .hello(let body) = hello else { return XCTFail("\(hello)") }
        XCTAssertEqual(body.resuming, [JobProgress(cell: id("a"), attempt: 1, epoch: 1)])
        XCTAssertFalse(core.isConnected)
        // Not queued (no connection yet): tried again at the next tick, until it is.
        core.sent(hello, queued: false, now: 3)
        let retry = core.tick(now: 3.1)
        XCTAssertEqual(messages(retry).filter(isHello).count, 1)
        deliver(&core, retry, now: 3.1)
        XCTAssertEqual(messages(core.tick(now: 3.2)).filter(isHello), [])

        let resent = core.received(.welcome(welcome), now: 3.3, cached: { _ in true })
        XCTAssertEqual(messages(resent), [.metrics(report("a", epoch: 1))], "the unacknowledged metrics go again")
    }

    func testAMessageNotQueuedWhileConnectedReopensTheSession() throws {
        var core = core()
        connect(&core)
        assign(&core, try assignment("a"))
        let metrics = core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: []), now: 2)
        deliver(&core, metrics, now: 2, queued: false)
        let next = core.tick(now: 2.1)
        XCTAssertTrue(next.contains(.reopenSocket))
        XCTAssertEqual(messages(next).filter(isHello).count, 1)
    }

    // MARK: - Fault injection

    func testTheCorruptFirstChunkFaultFlipsExactlyOneChunk() throws {
        var core = core(corruptFirstChunk: true)
        connect(&core)
        assign(&core, try assignment("a"))
        let last = file("last.h5", "1")
        deliver(
            &core, core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: [last]), now: 2),
            now: 2)
        func credit(_ offset: Int64) -> [WorkerAction] {
            core.received(
                .credit(Credit(sha256: last.ref.sha256, offset: offset, chunks: 3)), now: 3, cached: { _ in true })
        }
        let first = credit(0)
        XCTAssertEqual(chunks(first).map(\.corrupt), [true, false, false])
        // The corrupted chunk could not be queued: the fault stays armed for the next chunk.
        XCTAssertEqual(deliver(&core, [first[0]], now: 3, queued: false), [])
        let second = credit(300)
        XCTAssertEqual(chunks(second).map(\.corrupt), [true, false, false])
        let logged = deliver(&core, second, now: 3)
        XCTAssertEqual(logged.count, 1, "the corruption is logged once")
        XCTAssertEqual(chunks(credit(600)).map(\.corrupt), [false, false, false])

        var plain = self.core()
        connect(&plain)
        assign(&plain, try assignment("a"))
        deliver(
            &plain,
            plain.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: [last]), now: 2),
            now: 2)
        let untouched = plain.received(
            .credit(Credit(sha256: last.ref.sha256, offset: 0, chunks: 3)), now: 3, cached: { _ in true })
        XCTAssertEqual(
            chunks(untouched).map(\.corrupt), [false, false, false], "without the option no chunk is corrupted")
    }
}
