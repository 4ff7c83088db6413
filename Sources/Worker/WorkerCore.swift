// WorkerCore: the worker's decisions as a pure state machine — messages, thread events and clock ticks in, actions out.
import AblateSupport
import Foundation
import Logging
import RunSpec
import TransferKit
import WireProtocol

/// Jobs in hand and their outboxes, downloads awaited, the connection (`WorkerLink`), GPU pinning, the graceful
/// stop and the fault injections of a worker; no socket, file, thread or clock of its own (time is an argument, in
/// seconds), so every rule is tested with a manual clock. `WorkerAgent` performs the actions it returns and reports
/// what only it can know (a message queued or not, a download piece's outcome) through the feedback methods.
public struct WorkerCore: Sendable {
    /// One assignment in hand.
    public struct Job: Sendable {
        public var spec: Assign
        public var outbox: JobOutbox
        /// Artifacts (SHA-256) not in the cache yet.
        public var waitingFor: Set<String> = []
        public var started = false
        /// The GPU a command job was pinned to, until its process ended.
        public var gpu: Int?
        /// The SHA-256 of each file of the outbox (the CREDIT and STORED index's entries for this job).
        var shas: Set<String> = []
    }

    /// Where a stop stands.
    public enum StopPhase: Equatable, Sendable {
        case running
        /// Jobs cancelled; their metrics and files are flushed until `deadline`.
        case flushing(deadline: Double)
        /// Waiting for every job thread to return until `deadline`.
        case waitingForThreads(deadline: Double)
        /// The cells are released (when connected): the loop may end.
        case stopped
    }

    public let options: WorkerOptions
    let incarnation: String
    let host: String
    let blasCore: String
    public private(set) var link = WorkerLink()
    public internal(set) var jobs: [String: Job] = [:]
    /// Downloads open, by SHA-256, with the hash failures of each.
    public private(set) var downloads: [String: Int] = [:]
    private var downloadRefs: [String: ArtifactRef] = [:]
    /// Cells waiting for each artifact (SHA-256).
    private var waiters: [String: Set<String>] = [:]
    /// Cells with a file of each SHA-256 in their outbox: where a CREDIT or STORED goes.
    private var owners: [String: Set<String>] = [:]
    /// Training and command threads started and not yet returned, as `cell#attempt` (a job dropped by CANCEL may
    /// still be finishing its batch): a stop waits for all of them.
    public private(set) var liveThreads: Set<String> = []
    var chunkBytes = 256 * 1024
    var window = 4
    /// A HELLO could not be queued (no connection yet: ZMQ_IMMEDIATE): it is tried again at every tick.
    private var helloPending = false
    /// A message the protocol needs delivered could not be queued while connected: the next tick reopens the session.
    private var undelivered = false
    /// A METRICS went out and no OFFER since (where the fault-injection point `metrics-before-checkpoint` sits).
    var metricsAwaitOffer = false
    /// The next CHUNK queued is corrupted (`options.corruptFirstChunk`, once).
    private var corruptNextChunk: Bool
    /// The coordinator said the sweep is finished and `options.exitWhenFinished` is set: the loop should stop.
    public internal(set) var exitRequested = false
    /// When the worker last held no job and no download (nil while it holds one): `options.exitWhenIdle` counts from it.
    var idleSince: Double?
    public private(set) var stopPhase = StopPhase.running

    /// `incarnation` is random per process, `blasCore` the BLAS kernel name HELLO reports.
    public init(options: WorkerOptions, incarnation: String, host: String, blasCore: String) {
        self.options = options
        self.incarnation = incarnation
        self.host = host
        self.blasCore = blasCore
        corruptNextChunk = options.corruptFirstChunk
    }

    /// Set once a stop was asked for: no new cells, running ones are given back.
    public var stopping: Bool { stopPhase != .running }
    /// The stop is over: the loop ends.
    public var isStopped: Bool { stopPhase == .stopped }
    public var isConnected: Bool { link.isConnected }

    public var activity: WorkerActivity {
        WorkerActivity(
            connected: link.isConnected,
            jobs: jobs.values.map { "\($0.spec.variant)/seed-\($0.spec.seed) epoch \($0.outbox.epoch)" }.sorted())
    }

    public static func threadKey(_ cell: String, _ attempt: Int) -> String { "\(cell)#\(attempt)" }

    // MARK: - Events

    /// First connection: open the socket and say HELLO.
    public mutating func start(now: Double) -> [WorkerAction] { perform(link.start(now: now)) }

    /// One message from the coordinator. `cached` tells whether a verified copy of an artifact is held.
    public mutating func received(_ message: Message, now: Double, cached: (ArtifactRef) -> Bool) -> [WorkerAction] {
        var actions = perform(link.received(message, now: now))
        switch message {
        case .assign(let assign):
            actions += accept(assign, cached: cached)
        case .metricsAck(let ack):
            guard jobs[ack.cell]?.outbox.attempt == ack.attempt else { break }
            jobs[ack.cell]?.outbox.acknowledge(seq: ack.seq)
        case .credit(let credit):
            for cell in (owners[credit.sha256] ?? []).sorted() {
                guard var job = jobs[cell] else { continue }
                let orders = job.outbox.credit(credit, chunkBytes: chunkBytes)
                jobs[cell] = job
                // The fault flips the first non-empty chunk; it stays armed until a corrupted chunk is queued.
                let corrupted = corruptNextChunk ? orders.firstIndex { $0.length > 0 } : nil
                actions += orders.indices.map { .sendChunk(orders[$0], corrupt: $0 == corrupted) }
                if !orders.isEmpty { break }
            }
        case .stored(let stored):
            actions += self.stored(stored)
        case .doneAck(let ack):
            guard let job = jobs[ack.cell], job.outbox.attempt == ack.attempt else { break }
            switch ack.status {
            case .ok, .stale:
                remove(ack.cell)
                actions.append(
                    .log(
                        "cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(ack.attempt): \(ack.status == .ok ? "delivered" : "stale, dropped")",
                        level: ack.status == .ok ? .info : .warning))
            case .missingFiles:
                actions += sendAll(jobs[ack.cell]?.outbox.reofferAll(connected: link.isConnected) ?? [])
            }
        case .cancel(let cancel):
            guard jobs[cancel.cell]?.outbox.attempt == cancel.attempt else { break }
            actions += drop(cancel.cell, because: "cancelled by the coordinator: \(cancel.reason)")
        case .data(let chunk):
            if downloads[chunk.sha256] != nil { actions.append(.writeDownload(chunk)) }
        case .fetchError(let error):
            actions += closeDownload(error.sha256)
            for cell in (waiters[error.sha256] ?? []).sorted() {
                actions += fail(
                    cell, reason: "cannot fetch \(error.sha256.prefix(12))…: \(error.reason)", deterministic: false)
            }
        default:
            break
        }
        return actions
    }

    /// An event posted by a training or command thread.
    public mutating func handle(_ event: WorkerEvent, now: Double) -> [WorkerAction] {
        switch event {
        case .finished(let cell, let attempt, _), .failed(let cell, let attempt, _, _),
            .cancelled(let cell, let attempt):
            liveThreads.remove(Self.threadKey(cell, attempt))
        default:
            break
        }
        switch event {
        case .epoch(let cell, let attempt, let report, let files):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return [] }
            let messages = job.outbox.addEpoch(report, files: files, connected: link.isConnected)
            jobs[cell] = job
            reindex(cell)
            return sendAll(messages)
        case .files(let cell, let attempt, let files):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return [] }
            let messages = job.outbox.addFiles(files, connected: link.isConnected)
            jobs[cell] = job
            reindex(cell)
            return sendAll(messages)
        case .progress(let cell, let attempt, let progress):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return [] }
            job.outbox.setWithin(progress)
            jobs[cell] = job
            return []
        case .output(let cell, let attempt, let lines):
            guard jobs[cell]?.outbox.attempt == attempt, link.isConnected else { return [] }
            return send(.log(LogLines(cell: cell, attempt: attempt, lines: lines)))
        case .finished(let cell, let attempt, let summary):
            guard var job = jobs[cell], job.outbox.attempt == attempt else { return [] }
            job.gpu = nil
            let messages = job.outbox.finish(.done(summary: summary), connected: link.isConnected)
            jobs[cell] = job
            return sendAll(messages)
        case .failed(let cell, let attempt, let reason, let deterministic):
            guard jobs[cell]?.outbox.attempt == attempt else { return [] }
            jobs[cell]?.gpu = nil
            return fail(cell, reason: reason, deterministic: deterministic)
        case .cancelled(let cell, let attempt):
            guard let job = jobs[cell], job.outbox.attempt == attempt else { return [] }
            guard stopping else {
                remove(cell)
                return []
            }
            return [
                .log(
                    "cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(attempt): its thread stopped after epoch \(job.outbox.epoch)"
                )
            ]
        case .log(let line, let level):
            return [.log(line, level: level)]
        }
    }

    /// The end of a loop iteration at `now`: a HELLO not queued yet, a session to reopen after a message that could
    /// not be queued, heartbeats and expiry, and the progress of a stop.
    public mutating func tick(now: Double) -> [WorkerAction] {
        var actions: [WorkerAction] = []
        // A HELLO sent before the connection completed was not queued (ZMQ_IMMEDIATE): try again.
        if helloPending { actions += perform([.sendHello]) }
        if undelivered {
            undelivered = false
            actions += perform(link.undelivered(now: now))
        }
        actions += perform(link.tick(now: now))
        actions += checkIdle(now: now)
        return actions + advanceStop(now: now)
    }

    /// A stop (SIGTERM, or the sweep finished with `exitWhenFinished`): take no new cells, cancel every job at its
    /// next batch (the last completed epoch is the resume point), flush the metrics and files produced so far while
    /// connected, wait for every job thread, then RELEASE each cell still held so the coordinator requeues it at
    /// once; all within `options.stopTimeout`. Past it with a thread still running, `exitAtOnce`.
    public mutating func stop(now: Double) -> [WorkerAction] {
        guard stopPhase == .running else { return [] }
        stopPhase = .flushing(deadline: now + options.stopTimeout)
        var actions: [WorkerAction] = jobs.keys.sorted().compactMap { cell in
            jobs[cell].map { .cancelJob(cell: cell, attempt: $0.spec.attempt) }
        }
        if !jobs.isEmpty {
            actions.append(
                .log("stopping: cancelling \(jobs.count) job(s); flushing for at most \(Int(options.stopTimeout)) s"))
        }
        return actions + advanceStop(now: now)
    }

    // MARK: - Feedback from the agent

    /// A `.send` was performed: `queued` is false when the message could not be queued (no connection yet, or a
    /// full queue). A message the protocol needs delivered that was not queued while connected reopens the session
    /// at the next tick, whose start resends everything unacknowledged.
    public mutating func sent(_ message: Message, queued: Bool, now: Double) {
        if queued { link.sent(now: now) }
        switch message {
        case .hello:
            helloPending = !queued
        case .heartbeat:
            break
        default:
            if !queued, link.isConnected { undelivered = true }
        }
    }

    /// A `.sendChunk` was performed and its bytes read (nothing is reported when the file could not be read).
    public mutating func sentChunk(_ order: ChunkOrder, corrupted: Bool, queued: Bool, now: Double) -> [WorkerAction] {
        guard queued else {
            if link.isConnected { undelivered = true }
            return []
        }
        link.sent(now: now)
        guard corrupted, corruptNextChunk else { return [] }
        corruptNextChunk = false
        return [
            .log(
                "fault injection: corrupted the chunk at offset \(order.offset) of \(order.sha256.prefix(12))…",
                level: .warning)
        ]
    }

    /// An `.openDownload` succeeded; `complete` when the artifact was already whole (zero bytes).
    public mutating func downloadOpened(sha256: String, complete: Bool) -> [WorkerAction] {
        guard downloads[sha256] != nil else { return [] }
        if complete {
            downloads[sha256] = nil
            downloadRefs[sha256] = nil
            return [.closeDownload(sha256: sha256)] + artifactArrived(sha256)
        }
        return [.requestFetches(sha256: sha256, window: window, chunkBytes: chunkBytes)]
    }

    /// An `.openDownload` failed: the jobs waiting for it keep waiting (a later ASSIGN tries again).
    public mutating func downloadNotOpened(sha256: String, reason: String) -> [WorkerAction] {
        let name = downloadRefs[sha256]?.name ?? String(sha256.prefix(12))
        downloads[sha256] = nil
        downloadRefs[sha256] = nil
        return [.log("cannot start fetching \(name): \(reason)", level: .error)]
    }

    /// The outcome of a `.writeDownload`.
    public mutating func downloadProgress(sha256: String, _ progress: ArtifactDownload.Progress) -> [WorkerAction] {
        guard let failures = downloads[sha256], let ref = downloadRefs[sha256] else { return [] }
        switch progress {
        case .partial:
            return [.requestFetches(sha256: sha256, window: window, chunkBytes: chunkBytes)]
        case .complete:
            downloads[sha256] = nil
            downloadRefs[sha256] = nil
            return [.closeDownload(sha256: sha256), .log("fetched \(ref.name) (\(ref.size) bytes)")]
                + artifactArrived(sha256)
        case .corrupt(let reason):
            downloads[sha256] = failures + 1
            guard failures + 1 > 3 else {
                return [
                    .log(reason, level: .warning),
                    .requestFetches(sha256: sha256, window: window, chunkBytes: chunkBytes),
                ]
            }
            var actions: [WorkerAction] = [.log(reason, level: .error)] + closeDownload(sha256)
            for cell in (waiters[sha256] ?? []).sorted() { actions += fail(cell, reason: reason, deterministic: false) }
            return actions
        }
    }

    // MARK: - Jobs

    private mutating func accept(_ assign: Assign, cached: (ArtifactRef) -> Bool) -> [WorkerAction] {
        if stopping {
            return send(
                .release(Release(cell: assign.cell, attempt: assign.attempt, reason: "worker \(options.name) stopping"))
            )
        }
        var actions: [WorkerAction] = []
        if let existing = jobs[assign.cell] {
            if existing.spec.attempt == assign.attempt { return [] }
            actions += drop(assign.cell, because: "superseded by attempt \(assign.attempt)")
        }
        var job = Job(spec: assign, outbox: JobOutbox(cell: assign.cell, attempt: assign.attempt, epoch: 0))
        let needed =
            [assign.dataset, assign.stage1, assign.resume].compactMap { $0 } + (assign.inputs ?? []).map(\.artifact)
        for ref in needed where !cached(ref) && !job.waitingFor.contains(ref.sha256) {
            job.waitingFor.insert(ref.sha256)
            waiters[ref.sha256, default: []].insert(assign.cell)
            if downloads[ref.sha256] == nil {
                downloads[ref.sha256] = 0
                downloadRefs[ref.sha256] = ref
                actions.append(.openDownload(ref))
            }
        }
        jobs[assign.cell] = job
        actions.append(
            .log(
                "cell \(assign.variant)/seed-\(assign.seed) attempt \(assign.attempt) assigned\(job.waitingFor.isEmpty ? "" : "; fetching \(job.waitingFor.count) artifact(s)")"
            ))
        return actions + startIfReady(assign.cell)
    }

    /// An artifact is in the cache: the jobs that waited for it start when nothing else is missing.
    private mutating func artifactArrived(_ sha256: String) -> [WorkerAction] {
        var actions: [WorkerAction] = []
        for cell in (waiters.removeValue(forKey: sha256) ?? []).sorted()
        where jobs[cell]?.waitingFor.remove(sha256) != nil {
            actions += startIfReady(cell)
        }
        return actions
    }

    /// Starts a job whose artifacts are all held (never while stopping: the cell is released instead).
    private mutating func startIfReady(_ cell: String) -> [WorkerAction] {
        guard var job = jobs[cell], job.waitingFor.isEmpty, !job.started, !stopping else { return [] }
        let assign = job.spec
        var actions: [WorkerAction] = []
        if let resume = assign.resume {
            actions.append(.log("resuming from \(resume.name) \(resume.sha256.prefix(12))…"))
        }
        if let command = assign.command {
            job.gpu = gpuForNewCommand()
            actions.append(.startCommand(assign, command: command, gpu: job.gpu))
        } else if assign.dataset == nil {
            return fail(cell, reason: "invalid assignment: the native trainer needs a dataset", deterministic: true)
        } else {
            do {
                var config = try TrainingConfig.fromJSON(assign.config)
                config.threads = options.threads
                actions.append(.startTraining(assign, config: config))
            } catch {
                return fail(cell, reason: "invalid assignment: \(error)", deterministic: true)
            }
        }
        job.started = true
        jobs[cell] = job
        liveThreads.insert(Self.threadKey(cell, assign.attempt))
        return actions
    }

    private mutating func stored(_ stored: Stored) -> [WorkerAction] {
        var actions: [WorkerAction] = []
        for cell in (owners[stored.sha256] ?? []).sorted() {
            guard var job = jobs[cell] else { continue }
            let (messages, abandon) = job.outbox.stored(stored, connected: link.isConnected)
            jobs[cell] = job
            // The coordinator holds it now (by hash): the snapshot in the outbox is no longer needed.
            if stored.status == .ok,
                let path = job.outbox.files.values.first(where: { $0.ref.sha256 == stored.sha256 })?.path
            {
                actions.append(.discardSnapshot(path: path))
            }
            actions += sendAll(messages)
            if let abandon { actions += drop(cell, because: abandon) }
        }
        return actions
    }

    private mutating func fail(_ cell: String, reason: String, deterministic: Bool) -> [WorkerAction] {
        guard
            let messages = jobs[cell]?.outbox.finish(
                .failed(reason: reason, deterministic: deterministic), connected: link.isConnected)
        else {
            return []
        }
        return sendAll(messages)
    }

    /// Forgets a job and cancels its thread (if it has one).
    mutating func drop(_ cell: String, because reason: String) -> [WorkerAction] {
        guard let job = remove(cell) else { return [] }
        return [
            .cancelJob(cell: cell, attempt: job.spec.attempt),
            .log(
                "cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(job.spec.attempt) dropped: \(reason)",
                level: .warning),
        ]
    }

    /// Removes a job and its index entries.
    @discardableResult
    private mutating func remove(_ cell: String) -> Job? {
        guard let job = jobs.removeValue(forKey: cell) else { return nil }
        for sha in job.shas { unindex(cell, from: &owners, sha) }
        for sha in job.waitingFor { unindex(cell, from: &waiters, sha) }
        return job
    }

    mutating func closeDownload(_ sha256: String) -> [WorkerAction] {
        downloadRefs[sha256] = nil
        return downloads.removeValue(forKey: sha256) == nil ? [] : [.closeDownload(sha256: sha256)]
    }

    /// Brings the CREDIT and STORED index up to date with a job's outbox (a newer file of a name replaces the older).
    private mutating func reindex(_ cell: String) {
        guard let job = jobs[cell] else { return }
        let shas = Set(job.outbox.files.values.map(\.ref.sha256))
        for sha in job.shas.subtracting(shas) { unindex(cell, from: &owners, sha) }
        for sha in shas.subtracting(job.shas) { owners[sha, default: []].insert(cell) }
        jobs[cell]?.shas = shas
    }

    private func unindex(_ cell: String, from index: inout [String: Set<String>], _ sha: String) {
        index[sha]?.remove(cell)
        if index[sha]?.isEmpty == true { index[sha] = nil }
    }

    // MARK: - Stopping

    private func settled(_ job: Job) -> Bool {
        !liveThreads.contains(Self.threadKey(job.spec.cell, job.spec.attempt)) && job.outbox.metrics.isEmpty
            && job.outbox.files.values.allSatisfy(\.stored)
    }

    private mutating func advanceStop(now: Double) -> [WorkerAction] {
        if case .flushing(let deadline) = stopPhase {
            if now < deadline, link.isConnected, !jobs.values.allSatisfy(settled) { return [] }
            // Whatever the link's state (the coordinator may be gone), no job thread may outlive the loop: the
            // process's exit path tears down OpenBLAS and HDF5 under a thread still inside them.
            stopPhase = .waitingForThreads(deadline: deadline)
        }
        guard case .waitingForThreads(let deadline) = stopPhase else { return [] }
        if !liveThreads.isEmpty {
            guard now >= deadline else { return [] }
            // A thread stuck in a call that never reaches a cancellation point: the process ends at once; the cells
            // are requeued by the coordinator like a killed worker's.
            stopPhase = .stopped
            return [
                .log(
                    "stopping: \(liveThreads.count) job thread(s) still running after \(Int(options.stopTimeout)) s; exiting without cleanup",
                    level: .error),
                .exitAtOnce,
            ]
        }
        stopPhase = .stopped
        guard link.isConnected else { return [] }
        var actions: [WorkerAction] = []
        for cell in jobs.keys.sorted() {
            guard let job = jobs[cell] else { continue }
            actions += send(
                .release(Release(cell: cell, attempt: job.spec.attempt, reason: "worker \(options.name) stopping")))
            actions.append(
                .log(
                    "cell \(job.spec.variant)/seed-\(job.spec.seed) attempt \(job.spec.attempt) released at epoch \(job.outbox.epoch)"
                ))
        }
        // Closing with a short linger lets the RELEASE messages leave.
        return actions + [.lingerBeforeClose]
    }
}
