// WorkerAgent: the worker process's network loop — one DEALER, owned by this thread, around the pure link and outboxes.
import AblateSupport
import Foundation
import NN
import RunSpec
import TransferKit
import WireProtocol

/// Settings of a worker process.
public struct WorkerOptions: Sendable {
    public var endpoint: String
    public var name: String
    public var workDirectory: String
    public var threads: Int = 1
    public var gpu: Int?
    public var slots: Int = 1
    public var codeVersion = "dev"
    /// Prefix caches (nil = under the work directory).
    public var cacheDirectory: String?
    /// CURVE keys for the connection (nil: plaintext).
    public var curve: CurveClientKeys?
    /// Seconds a stop may take to cancel training, flush what was produced and release the cells.
    public var stopTimeout: Double = 30
    /// Least seconds between two epochs whose checkpoint files are streamed (`CheckpointCadence`): the first and
    /// last epochs' always go, METRICS every epoch. 0 streams every epoch's files.
    public var checkpointInterval: Double = 10
    /// GPUs of one-slot-per-GPU mode (`--gpus`): each command job is pinned to a free one. Empty: every job uses
    /// `gpu` (or none).
    public var gpus: [Int] = []
    /// The `ablate` executable whose `exec-guard` starts user commands so that they die with this process; nil
    /// starts them directly (see `CommandJobSpec.execGuard`).
    public var execGuard: String?
    /// End `run` once the coordinator says the sweep is finished (`--exit-when-finished`); otherwise the worker stays,
    /// connected to a coordinator that keeps serving or waiting for the next one.
    public var exitWhenFinished = false

    public init(endpoint: String, name: String, workDirectory: String) {
        self.endpoint = endpoint
        self.name = name
        self.workDirectory = workDirectory
    }
}

/// What the worker is doing, given to `WorkerAgent.onTick` after every loop iteration.
public struct WorkerActivity: Sendable, Equatable {
    public var connected: Bool
    /// `variant/seed-N epoch E` of each job in hand, sorted.
    public var jobs: [String]
}

/// Connects to a coordinator, fetches what cells need, trains them on their own threads and streams metrics and
/// checkpoints back. Heartbeats come from this loop, never from training, so a long epoch is not mistaken for death.
/// The DEALER is created, used and closed on the thread that calls `run`.
public final class WorkerAgent {
    private struct Job {
        var spec: Assign
        var outbox: JobOutbox
        var cancel = CancelFlag()
        var waitingFor: Set<String> = []
        var started = false
        /// The GPU a command job was pinned to, until its process ended.
        var gpu: Int?
    }

    public let options: WorkerOptions
    private let context: ZMQContext
    private var socket: ZMQSocket?
    private var link = WorkerLink()
    private var jobs: [String: Job] = [:]
    private var downloads: [String: ArtifactDownload] = [:]
    /// The outbox file being streamed, mapped (see `ChunkSource`).
    private let chunkSource = ChunkSource()
    private let inbox: WorkerInbox
    private let cache: ArtifactCache
    private let incarnation = String(UInt64.random(in: 1...UInt64.max), radix: 16)
    private var helloPending = false
    /// A message the protocol needs delivered could not be queued while connected (see `send`).
    private var undelivered = false
    private let host = ProcessInfo.processInfo.hostName
    private var chunkBytes = 256 * 1024
    private var window = 4
    private let clockStart = Date()
    private let log: (String) -> Void
    /// Flips one byte of the first chunk sent (fault injection for tests; `ABLATE_TEST_CORRUPT_FIRST_CHUNK=1`).
    private var corruptNextChunk = ProcessInfo.processInfo.environment["ABLATE_TEST_CORRUPT_FIRST_CHUNK"] == "1"
    /// Training and command threads started and not yet returned, as `cell#attempt` (a job dropped by CANCEL may
    /// still be finishing its batch): a stop waits for all of them.
    private var liveThreads: Set<String> = []
    /// A METRICS went out and no OFFER since (where the fault-injection point `metrics-before-checkpoint` sits).
    private var metricsAwaitOffer = false
    /// Set once a stop was asked for: no new cells, running ones are given back.
    private var stopping = false
    /// The coordinator said the sweep is finished and `options.exitWhenFinished` is set: `run` returns.
    private var finished = false
    /// Called after every loop iteration (at most ~100 ms apart): the systemd watchdog and status hook.
    public var onTick: ((WorkerActivity) -> Void)?

    public init(options: WorkerOptions, log: @escaping (String) -> Void) throws {
        self.options = options
        self.log = log
        context = try ZMQContext()
        inbox = try WorkerInbox()
        cache = try ArtifactCache(directory: "\(options.workDirectory)/artifacts")
        for sub in ["outbox", "runs"] {
            try FileManager.default.createDirectory(atPath: "\(options.workDirectory)/\(sub)", withIntermediateDirectories: true)
        }
    }

    private var now: Double { Date().timeIntervalSince(clockStart) }

    /// Runs until `shouldStop` returns true (checked at least every 100 ms) or, with `options.exitWhenFinished`, the
    /// coordinator says the sweep is finished; then stops gracefully: running jobs
    /// are cancelled at their next batch (their last completed epoch stays the resume point), what they produced
    /// is flushed and their cells are released, within `options.stopTimeout`.
    public func run(shouldStop: () -> Bool) throws {
        perform(link.start(now: now))
        while !shouldStop(), !finished { try serviceOnce() }
        try stopGracefully()
        for job in jobs.values { job.cancel.set() }
        socket?.close()
        socket = nil
    }

    /// One loop iteration: wait up to 100 ms, handle messages and training events, heartbeats.
    private func serviceOnce() throws {
        _ = try ZMQPoller(sockets: socket.map { [$0] } ?? [], fds: [inbox.doorbell.fd]).poll(timeoutMs: 100)
        while let socket, let frames = try socket.receiveFrames() {
            do {
                handle(try MessageCodec.decode(frames))
            } catch {
                log("dropped a malformed message from the coordinator: \(error)")
            }
        }
        for event in inbox.drain() { handle(event) }
        // A HELLO sent before the connection completed was not queued (ZMQ_IMMEDIATE): try again.
        if helloPending { perform([.sendHello]) }
        if undelivered {
            undelivered = false
            perform(link.undelivered(now: now))
        }
        perform(link.tick(now: now))
        onTick?(WorkerActivity(connected: link.isConnected,
                               jobs: jobs.values.map { "\($0.spec.variant)/seed-\($0.spec.seed) epoch \($0.outbox.epoch)" }.sorted()))
    }

    /// A stop (SIGTERM): take no new cells, cancel training at its next batch (the last completed epoch is the
    /// resume point), flush the metrics and files produced so far, then RELEASE each cell still held so the
    /// coordinator requeues it at once. Bounded by `options.stopTimeout`.
    private func stopGracefully() throws {
        stopping = true
        let deadline = Date().addingTimeInterval(options.stopTimeout)
        for job in jobs.values { job.cancel.set() }
        if !jobs.isEmpty { log("stopping: cancelling \(jobs.count) job(s); flushing for at most \(Int(options.stopTimeout)) s") }
        func settled(_ job: Job) -> Bool {
            !liveThreads.contains(Self.threadKey(job.spec.cell, job.spec.attempt)) && job.outbox.metrics.isEmpty
                && job.outbox.files.values.allSatisfy(\.stored)
        }
        while Date() < deadline, link.isConnected, !jobs.values.allSatisfy(settled) { try serviceOnce() }
        // Whatever the link's state (the coordinator may be gone), no training or command thread may outlive the loop:
        // the process's exit path tears down OpenBLAS and HDF5 under a thread still inside them.
        try waitForJobThreads(until: deadline)
        guard link.isConnected, let socket else { return }
        for job in jobs.values.sorted(by: { $0.spec.cell < $1.spec.cell }) {
            send(.release(Release(cell: job.spec.cell, attempt: job.spec.attempt, reason: "worker \(options.name) stopping")))
            log("cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(job.spec.attempt) released at epoch \(job.outbox.epoch)")
        }
        // Closing with a short linger lets the RELEASE messages leave.
        try socket.setOption(ZMQOption.linger, Int32(2000))
    }

    /// Serves the loop (so job-ended events are drained) until every started job's thread has returned. Past
    /// `deadline` (a thread stuck in a call that never reaches a cancellation point), the process ends at once with
    /// `_exit`: the cells are requeued by the coordinator like a killed worker's, and no exit handler runs under it.
    private func waitForJobThreads(until deadline: Date) throws {
        while !liveThreads.isEmpty {
            guard Date() < deadline else {
                log("stopping: \(liveThreads.count) job thread(s) still running after \(Int(options.stopTimeout)) s; exiting without cleanup")
                _exit(1)
            }
            try serviceOnce()
        }
    }

    private static func threadKey(_ cell: String, _ attempt: Int) -> String { "\(cell)#\(attempt)" }

    // MARK: - Sending

    /// Sends a message the protocol needs delivered; one that cannot be queued while connected reopens the session
    /// (at the next loop iteration), whose start resends everything unacknowledged.
    private func send(_ message: Message) {
        switch message {
        case .metrics: metricsAwaitOffer = true
        case .offer where metricsAwaitOffer:
            metricsAwaitOffer = false
            FaultPoint.shared.reach(.metricsBeforeCheckpoint)
        case .done: FaultPoint.shared.reach(.beforeDone)
        default: break
        }
        guard !trySend(message), link.isConnected else { return }
        if case .heartbeat = message { return }
        undelivered = true
    }

    /// Sends without blocking; false when the message could not be queued (no connection yet: ZMQ_IMMEDIATE).
    private func trySend(_ message: Message) -> Bool {
        guard let socket else { return false }
        do {
            if try socket.send(MessageCodec.encode(message)) {
                link.sent(now: now)
                return true
            }
        } catch {
            log("send failed: \(error)")
        }
        return false
    }

    private func perform(_ actions: [LinkAction]) {
        for action in actions {
            switch action {
            case .reopenSocket:
                socket?.close()
                do {
                    let fresh = try ZMQSocket(context, type: .dealer)
                    try fresh.configureWorkerDealer()
                    if let curve = options.curve { try fresh.configureCurveClient(curve) }
                    try fresh.connect(options.endpoint)
                    socket = fresh
                } catch {
                    log("cannot open a connection to \(options.endpoint): \(error)")
                    socket = nil
                }
            case .sendHello:
                helloPending = !trySend(.hello(Hello(
                    worker: options.name, incarnation: incarnation, host: host, threads: options.threads,
                    gpu: options.gpu, slots: options.slots, codeVersion: options.codeVersion, blasCore: BLAS.coreName,
                    resuming: jobs.values.map(\.outbox.progress).sorted { $0.cell < $1.cell })))
            case .sendHeartbeat:
                send(.heartbeat(Heartbeat(progress: jobs.values.map(\.outbox.progress).sorted { $0.cell < $1.cell })))
            case .sessionStarted(let welcome):
                chunkBytes = welcome.chunkBytes
                window = welcome.window
                for cell in jobs.keys.sorted() {
                    guard var job = jobs[cell] else { continue }
                    let messages = job.outbox.resendAll()
                    jobs[cell] = job
                    messages.forEach(send)
                }
                for download in downloads.values {
                    download.connectionReset()
                    download.requests(window: window, chunkBytes: chunkBytes).forEach { send(.fetch($0)) }
                }
            case .sweepFinished:
                // No job held can count any more. Exiting, the graceful stop cancels them and waits for their threads.
                if options.exitWhenFinished {
                    if !finished { log("the sweep is finished; exiting") }
                    finished = true
                } else {
                    for cell in jobs.keys.sorted() { drop(cell, because: "the sweep is finished") }
                    downloads.removeAll()
                }
            case .log(let line):
                log(line)
            }
        }
    }

    // MARK: - Messages from the coordinator

    private func handle(_ message: Message) {
        perform(link.received(message, now: now))
        switch message {
        case .assign(let assign):
            accept(assign)
        case .metricsAck(let ack):
            guard var job = jobs[ack.cell], job.outbox.attempt == ack.attempt else { return }
            job.outbox.acknowledge(seq: ack.seq)
            jobs[ack.cell] = job
        case .credit(let credit):
            for cell in jobs.keys.sorted() {
                guard var job = jobs[cell] else { continue }
                let orders = job.outbox.credit(credit, chunkBytes: chunkBytes)
                jobs[cell] = job
                orders.forEach(sendChunk)
                if !orders.isEmpty { break }
            }
        case .stored(let stored):
            for cell in jobs.keys.sorted() {
                guard var job = jobs[cell], job.outbox.files.values.contains(where: { $0.ref.sha256 == stored.sha256 }) else { continue }
                let (messages, abandon) = job.outbox.stored(stored, connected: link.isConnected)
                jobs[cell] = job
                // The coordinator holds it now (by hash): the snapshot in the outbox is no longer needed.
                if stored.status == .ok, let path = job.outbox.files.values.first(where: { $0.ref.sha256 == stored.sha256 })?.path {
                    chunkSource.forget(path)
                    try? FileManager.default.removeItem(atPath: path)
                }
                messages.forEach(send)
                if let abandon { drop(cell, because: abandon) }
            }
        case .doneAck(let ack):
            guard var job = jobs[ack.cell], job.outbox.attempt == ack.attempt else { return }
            switch ack.status {
            case .ok, .stale:
                jobs[ack.cell] = nil
                log("cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(ack.attempt): \(ack.status == .ok ? "delivered" : "stale, dropped")")
            case .missingFiles:
                job.outbox.reofferAll(connected: link.isConnected).forEach(send)
                jobs[ack.cell] = job
            }
        case .cancel(let cancel):
            guard let job = jobs[cancel.cell], job.outbox.attempt == cancel.attempt else { return }
            drop(cancel.cell, because: "cancelled by the coordinator: \(cancel.reason)")
        case .data(let chunk):
            receive(chunk)
        case .fetchError(let error):
            downloads[error.sha256] = nil
            for (cell, job) in jobs where job.waitingFor.contains(error.sha256) {
                fail(cell, reason: "cannot fetch \(error.sha256.prefix(12))…: \(error.reason)", deterministic: false)
            }
        default:
            break
        }
    }

    private func drop(_ cell: String, because reason: String) {
        guard let job = jobs.removeValue(forKey: cell) else { return }
        job.cancel.set()
        log("cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(job.spec.attempt) dropped: \(reason)")
    }

    private func fail(_ cell: String, reason: String, deterministic: Bool) {
        guard var job = jobs[cell] else { return }
        job.outbox.finish(.failed(reason: reason, deterministic: deterministic), connected: link.isConnected).forEach(send)
        jobs[cell] = job
    }

    private func sendChunk(_ order: ChunkOrder) {
        guard let socket else { return }
        let corrupt = corruptNextChunk && order.length > 0
        do {
            guard try socket.sendChunk(order, from: chunkSource, corruptFirstByte: corrupt) else {
                if link.isConnected { undelivered = true }
                return
            }
            link.sent(now: now)
            if corrupt {
                corruptNextChunk = false
                log("fault injection: corrupted the chunk at offset \(order.offset) of \(order.sha256.prefix(12))…")
            }
        } catch let error as FileWriteError {
            log("cannot read \(order.path): \(error)")
        } catch {
            log("send failed: \(error)")
        }
    }

    // MARK: - Assignments and artifacts

    private func accept(_ assign: Assign) {
        if stopping {
            send(.release(Release(cell: assign.cell, attempt: assign.attempt, reason: "worker \(options.name) stopping")))
            return
        }
        if let existing = jobs[assign.cell] {
            if existing.spec.attempt == assign.attempt { return }
            drop(assign.cell, because: "superseded by attempt \(assign.attempt)")
        }
        var job = Job(spec: assign, outbox: JobOutbox(cell: assign.cell, attempt: assign.attempt, epoch: 0))
        for ref in [assign.dataset, assign.stage1, assign.resume].compactMap({ $0 }) where !cache.has(ref) {
            job.waitingFor.insert(ref.sha256)
            if downloads[ref.sha256] == nil {
                do {
                    let download = try ArtifactDownload(ref: ref, cache: cache)
                    downloads[ref.sha256] = download
                    if case .complete = try download.completeIfEmpty() ?? .partial {
                        downloads[ref.sha256] = nil
                        job.waitingFor.remove(ref.sha256)
                    } else {
                        download.requests(window: window, chunkBytes: chunkBytes).forEach { send(.fetch($0)) }
                    }
                } catch {
                    log("cannot start fetching \(ref.name): \(error)")
                }
            }
        }
        jobs[assign.cell] = job
        log("cell \(assign.variant)/seed-\(assign.seed) attempt \(assign.attempt) assigned\(job.waitingFor.isEmpty ? "" : "; fetching \(job.waitingFor.count) artifact(s)")")
        startIfReady(assign.cell)
    }

    private func receive(_ chunk: FileChunk) {
        guard let download = downloads[chunk.sha256] else { return }
        do {
            switch try download.receive(chunk) {
            case .partial:
                download.requests(window: window, chunkBytes: chunkBytes).forEach { send(.fetch($0)) }
            case .complete:
                downloads[chunk.sha256] = nil
                log("fetched \(download.ref.name) (\(download.ref.size) bytes)")
                for cell in jobs.keys.sorted() where jobs[cell]?.waitingFor.remove(chunk.sha256) != nil {
                    startIfReady(cell)
                }
            case .corrupt(let reason):
                log(reason)
                if download.failures > 3 {
                    downloads[chunk.sha256] = nil
                    for (cell, job) in jobs where job.waitingFor.contains(chunk.sha256) {
                        fail(cell, reason: reason, deterministic: false)
                    }
                } else {
                    download.requests(window: window, chunkBytes: chunkBytes).forEach { send(.fetch($0)) }
                }
            }
        } catch {
            log("cannot store \(download.ref.name): \(error)")
        }
    }

    private func startIfReady(_ cell: String) {
        guard var job = jobs[cell], job.waitingFor.isEmpty, !job.started else { return }
        let assign = job.spec
        if let command = assign.command {
            job.started = true
            liveThreads.insert(Self.threadKey(cell, assign.attempt))
            job.gpu = options.gpus.isEmpty ? options.gpu : options.gpus.first { gpu in !jobs.values.contains { $0.gpu == gpu } }
            jobs[cell] = job
            startCommand(assign, command: command, gpu: job.gpu, cancel: job.cancel)
            return
        }
        do {
            var config = try TrainingConfig.fromJSON(assign.config)
            config.threads = options.threads
            let runDirectory = "\(options.workDirectory)/runs/\(assign.cell)-a\(assign.attempt)"
            try? FileManager.default.removeItem(atPath: runDirectory)
            let spec = JobSpec(
                assign: assign, config: config, datasetPath: cache.path(assign.dataset.sha256), stage1Path: assign.stage1.map { cache.path($0.sha256) },
                resumePath: assign.resume.map { cache.path($0.sha256) }, runDirectory: runDirectory,
                outboxDirectory: "\(options.workDirectory)/outbox", cacheDirectory: options.cacheDirectory ?? "\(options.workDirectory)/cache",
                codeVersion: options.codeVersion, checkpointInterval: options.checkpointInterval)
            job.started = true
            if let resume = assign.resume { log("resuming from \(resume.name) \(resume.sha256.prefix(12))…") }
            jobs[cell] = job
            liveThreads.insert(Self.threadKey(cell, assign.attempt))
            JobRunner.start(spec, inbox: inbox, cancel: job.cancel)
        } catch {
            jobs[cell] = job
            fail(cell, reason: "invalid assignment: \(error)", deterministic: true)
        }
    }

    private func startCommand(_ assign: Assign, command: [String], gpu: Int?, cancel: CancelFlag) {
        let spec = CommandJobSpec(
            assign: assign, argv: command, runDirectory: "\(options.workDirectory)/runs/\(assign.cell)-a\(assign.attempt)",
            outboxDirectory: "\(options.workDirectory)/outbox", gpu: gpu, datasetPath: cache.path(assign.dataset.sha256),
            stage1Path: assign.stage1.map { cache.path($0.sha256) }, resumePath: assign.resume.map { cache.path($0.sha256) },
            execGuard: options.execGuard, timeoutSeconds: assign.timeoutSeconds)
        if let resume = assign.resume { log("resuming from \(resume.name) \(resume.sha256.prefix(12))…") }
        CommandJob.start(spec, inbox: inbox, cancel: cancel)
    }

    // MARK: - Events from training threads

    private func handle(_ event: WorkerEvent) {
        switch event {
        case .finished(let cell, let attempt, _), .failed(let cell, let attempt, _, _), .cancelled(let cell, let attempt):
            liveThreads.remove(Self.threadKey(cell, attempt))
        default:
            break
        }
        switch event {
        case .epoch(let cell, let attempt, let report, let files):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return }
            job.outbox.addEpoch(report, files: files, connected: link.isConnected).forEach(send)
            jobs[cell] = job
        case .files(let cell, let attempt, let files):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return }
            job.outbox.addFiles(files, connected: link.isConnected).forEach(send)
            jobs[cell] = job
        case .output(let cell, let attempt, let lines):
            guard jobs[cell]?.outbox.attempt == attempt, link.isConnected else { return }
            send(.log(LogLines(cell: cell, attempt: attempt, lines: lines)))
        case .finished(let cell, let attempt, let summary):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return }
            job.gpu = nil
            job.outbox.finish(.done(summary: summary), connected: link.isConnected).forEach(send)
            jobs[cell] = job
        case .failed(let cell, let attempt, let reason, let deterministic):
            guard jobs[cell]?.outbox.attempt == attempt else { return }
            jobs[cell]?.gpu = nil
            fail(cell, reason: reason, deterministic: deterministic)
        case .cancelled(let cell, let attempt):
            guard jobs[cell]?.outbox.attempt == attempt else { return }
            guard stopping, let job = jobs[cell] else { jobs[cell] = nil; return }
            log("cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(attempt): its thread stopped after epoch \(job.outbox.epoch)")
        case .log(let line):
            log(line)
        }
    }
}
