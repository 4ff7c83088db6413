// CoordinatorServer: the coordinator's network loop — one ROUTER on this thread, around the pure scheduler.
import AblateSupport
import Foundation
import Logging
import TransferKit
import WireProtocol

/// Runs the protocol: decodes (dropping and counting malformed or excessive traffic), feeds the scheduler,
/// executes its actions in order (ledger first, then replies), streams files in and artifacts out.
/// The ROUTER is created, used and closed on the thread that calls `run`; every send is non-blocking.
/// A full state directory never stops it: transfers wait without credit (`TransferReceiver`), writes that fail wait
/// in the `PersistenceBacklog` with the messages that acknowledge them, and both resume by themselves.
public final class CoordinatorServer {
    public private(set) var setup: CoordinatorSetup
    public let endpoint: String
    var scheduler: Scheduler
    let receiver: TransferReceiver
    let results: ResultsWriter
    let logs: CommandLogWriter
    let limits: FrameLimits
    /// Report files listed to clients, held for their FETCHes (`CoordinatorServer+Control.swift`).
    let reports = HeldReports()
    var limiter: RateLimiter<PeerID>
    var counters: [String: Int] = [:]
    /// Lines that peers can make repeat (refused, stale or excessive traffic), at most one per kind per 10 s.
    var throttle = LogThrottle()
    var lastCounterFlush = 0.0
    var lastCollection = 0.0
    var collectionDue = true
    var orphansScanned = false
    var lastBackup = 0.0
    var ledgerChanged = true
    /// Artifacts whose bytes this process has checked against their SHA-256 (received ones, the hashed dataset and
    /// stage-1 checkpoint); any other is checked before its first byte is served.
    var verified: Set<String>
    /// Artifacts found damaged: never served again.
    var damaged: Set<String> = []
    /// Writes that failed (a full disk) and the acknowledgements behind them, retried every second.
    let backlog = PersistenceBacklog()
    /// When part files found at start that no offer claimed are removed (nil: done, or not yet known).
    var unclaimedPartsDue: Double?
    /// Whether the last loop iteration was paused (a change is logged).
    var wasPaused = false
    let freeBytes: () -> Int64?
    /// Seconds between online backups of the ledger (`STATE/ledger.backup.sqlite`) while it changes; one more is
    /// taken when the loop ends.
    public var backupInterval = 60.0
    /// The server's own lines (`coordinator`), the scheduler's decisions (`scheduler`) and file transfers (`transfer`).
    let logger: Logger
    let schedulerLogger: Logger
    let transferLogger: Logger
    /// Called after every loop iteration with the scheduler (for progress displays).
    public var onProgress: ((Scheduler) -> Void)?
    /// Called once the socket is bound, with the actual endpoint (a `tcp://…:*` bind gets its port here).
    public var onListening: ((String) -> Void)?
    /// CURVE on the ROUTER with a ZAP allowlist (nil: plaintext; the caller enforces the loopback rule).
    public var security: CoordinatorSecurity?
    /// Polled every loop iteration; true re-reads the authorized keys (the CLI raises it on SIGHUP).
    public var shouldReloadKeys: (() -> Bool)?
    /// Where the report thread leaves its verdicts for an adaptive sweep's planner (ignored for a list of seeds).
    public let adaptiveMailbox = AdaptiveMailbox()
    /// The adaptive-seed planner (nil for a list of seeds) and when it last ran.
    var adaptive: AdaptivePlanner?
    var lastAdaptiveStep = -Double.infinity

    /// `freeBytes` reads the free space of the state directory's filesystem (nil: `statvfs`; tests simulate a full disk).
    /// `makeLogger` makes the logger of a component from its label (`coordinator`, `scheduler`, `transfer`); by default
    /// swift-log's bootstrapped factory.
    public init(
        setup: CoordinatorSetup, endpoint: String, freeBytes: (() -> Int64?)? = nil,
        makeLogger: (String) -> Logger = { Logger(label: $0) }
    ) throws {
        self.setup = setup
        self.endpoint = endpoint
        self.scheduler = setup.scheduler
        self.adaptive = setup.adaptive
        let logger = makeLogger("coordinator")
        self.logger = logger
        schedulerLogger = makeLogger("scheduler")
        transferLogger = makeLogger("transfer")
        let stateDirectory = setup.store.stateDirectory
        let probe = freeBytes ?? { try? FreeSpace.available(at: stateDirectory) }
        self.freeBytes = probe
        receiver = try TransferReceiver(
            stateDirectory: stateDirectory, store: setup.store, window: setup.scheduler.settings.window,
            reserveBytes: setup.scheduler.settings.minFreeBytes,
            freeBytes: probe)
        results = ResultsWriter(ledger: setup.ledger, store: setup.store)
        logs = CommandLogWriter(store: setup.store)
        limits = FrameLimits(maxChunkBytes: setup.scheduler.settings.chunkBytes)
        limiter = RateLimiter(ratePerSecond: Double(setup.scheduler.settings.maxMessagesPerSecond))
        verified = setup.hashedAtStart
        // Cells finished before a crash that interrupted their results are written again (idempotent).
        var rewrites: [SchedulerAction] = []
        for cell in setup.scheduler.cells.values where cell.state == .done {
            let directory = setup.store.absolute(
                ResultsWriter.relativeDirectory(variant: cell.variant, seed: cell.seed))
            if !FileManager.default.fileExists(atPath: "\(directory)/summary.json") {
                rewrites.append(.finishCell(cell))
            }
        }
        if let failure = try backlog.run(
            rewrites, now: now, isRetryable: Self.mayPass,
            perform: { action in
                if case .finishCell(let cell) = action { try results.write(cell) }
            })
        {
            logger.warning("cannot write results to the state directory: \(failure); retrying every second")
        }
        // Part files of transfers that no cell can resume: removed now when no cell was running, else once the cells
        // that were running have had their restart grace and their workers time to offer them again.
        if !setup.scheduler.cells.values.contains(where: { $0.state == .running }) {
            removeUnclaimedParts()
        }
    }

    /// Why the coordinator is paused (transfers held or writes waiting for room), e.g.
    /// `paused: state directory full (3.2 MB free, need 520.0 MB)`; nil while it is not.
    public var pauseReason: String? {
        if let line = receiver.gate.statusLine { return line }
        guard !backlog.isEmpty else { return nil }
        let free = freeBytes()
        let shown = free.map { String(format: "%.1f MB free", Double($0) / 1_000_000) } ?? "free space unknown"
        return
            "paused: state directory full (\(shown), need \(String(format: "%.1f", Double(setup.scheduler.settings.minFreeBytes) / 1_000_000)) MB); "
            + "\(backlog.queue.count) write(s) waiting"
    }

    /// Wall-clock seconds (the scheduler's times are stored in the ledger as Unix times).
    var now: Double { Date().timeIntervalSince1970 }

    /// Serves until every cell is done or failed (when `untilFinished`) or `shouldStop` returns true.
    public func run(untilFinished: Bool, shouldStop: () -> Bool) throws {
        let endpoint = try CoordinatorEndpoint(
            security: security, maxFrameBytes: limits.socketMaxFrameBytes, logger: logger)
        defer { endpoint.close() }
        let socket = endpoint.socket
        let bound = try endpoint.bind(self.endpoint)
        logger.info("listening on \(bound)")
        onListening?(bound)
        while !shouldStop() {
            try planAdaptiveSeeds(socket: socket)
            if untilFinished && scheduler.isFinished && backlog.isEmpty { break }
            try endpoint.receive(timeoutMs: 50) { frames, userID in
                try handle(frames, userID: userID, socket: socket)
            }
            try execute(scheduler.tick(now: now), socket: socket)
            try housekeeping(socket: socket)
            try endpoint.drainRefusals(reload: shouldReloadKeys?() == true) { note($0, kind: $1) }
            flushLogs(socket: socket)
        }
        try finishUp(socket: socket)
        // The last DONE_ACK and the DISCONNECTs `sweep finished` get a moment to leave before the socket closes.
        if scheduler.isFinished { try? socket.setOption(ZMQOption.linger, Int32(1000)) }
    }

    /// One loop iteration's storage work after the scheduler's tick: the backlog, held and abandoned transfers,
    /// superseded checkpoints.
    func housekeeping(socket: any Outbox) throws {
        try storageWork(socket: socket)
        collectSupersededCheckpoints()
    }

    /// The end of one loop iteration: throttled log lines, counters, the ledger's backup, progress.
    func flushLogs(socket: any Outbox) {
        if let batch = adaptiveMailbox.latest(), batch.problem == nil {
            scheduler.verdicts = batch.judgements.mapValues(\.verdict.rawValue)
        }
        for line in throttle.flush(now: now) { logger.warning("\(line)") }
        flushCounters(force: false)
        backUpLedger(force: false)
        onProgress?(scheduler)
    }

    /// When the loop ends: writes still waiting are tried once more, then counters, the backup and progress.
    func finishUp(socket: any Outbox) throws {
        if !backlog.isEmpty {
            try backlog.retry(now: .infinity, isRetryable: Self.mayPass, perform: { try perform($0, socket: socket) })
            if !backlog.isEmpty {
                let failure = backlog.lastFailure ?? "the state directory is full"
                logger.error(
                    "\(backlog.queue.count) write(s) could not be saved (\(failure)); the work they record is redone after a restart"
                )
            }
        }
        for line in throttle.flush(now: now, all: true) { logger.warning("\(line)") }
        flushCounters(force: true)
        backUpLedger(force: true)
        onProgress?(scheduler)
    }

    /// The STATUS_REPLY for this sweep: the scheduler's rows, the sweep's name and why the loop is paused.
    func statusReply(now time: Double) -> StatusReply {
        var reply = scheduler.statusReply(now: time)
        reply.sweep = setup.sweep.name
        reply.paused = pauseReason
        return reply
    }

    /// A cell's metrics records, one per epoch (what its `metrics.jsonl` holds).
    func mergedMetrics(_ cell: CellRecord) throws -> [MetricsRecord] { try results.mergedMetrics(cell) }

    /// Whether CHUNKs of the file with this SHA-256 belong to this sweep's transfers.
    func isReceiving(_ sha256: String) -> Bool { receiver.isReceiving(sha256) }

    /// Whether this sweep's ledger holds the artifact (a FETCH of it is served here).
    func holdsArtifact(_ sha256: String) -> Bool { (try? setup.ledger.artifact(sha256)) != nil }

    /// The scheduler's current state (for a final table).
    public var state: Scheduler { scheduler }

    // MARK: - Input

    func handle(_ frames: [FrameBytes], userID: String?, socket: any Outbox) throws {
        guard let peer = frames.first?.array, frames.count > 1 else { return count("dropped_frames") }
        let time = now
        guard limiter.allow(peer: peer, now: time) else {
            return note(
                "dropped messages from peer \(Self.describe(peer)): more than \(Int(limiter.ratePerSecond)) a second",
                kind: "dropped_rate")
        }
        let message: Message
        do {
            message = try MessageCodec.decode(Array(frames.dropFirst()), limits: limits)
        } catch {
            note("dropped a message from peer \(Self.describe(peer)): \(error)", kind: "dropped_\(error.reason)")
            if let refusal = error.refusal { try execute([.send(peer, .disconnect(refusal))], socket: socket) }
            return
        }
        try handle(message, peer: peer, userID: userID, now: time, socket: socket)
    }

    /// One decoded message from `peer` (a lab routes each to the sweep it concerns).
    func handle(_ message: Message, peer: PeerID, userID: String?, now time: Double, socket: any Outbox) throws {
        switch message {
        case .chunk(let chunk):
            guard try refresh(peer, now: time, socket: socket) else { return }
            let outcome = try receiver.receive(chunk, now: time)
            if case .send = outcome { FaultPoint.shared.reach(.transfer) }
            try transfer(outcome, peer: peer, socket: socket)
        case .fetch(let fetch):
            if try serveReport(fetch, peer: peer, socket: socket) { return }
            guard try refresh(peer, now: time, socket: socket) else { return }
            try serve(fetch, peer: peer, socket: socket)
        case .control(let request):
            try control(request, peer: peer, userID: userID, socket: socket)
        case .hello where CoordinatorServer.role(of: userID) == .client:
            note("refused HELLO from client key \(userID ?? "")", kind: "client_hello")
            try execute(
                [.send(peer, .disconnect(Disconnect(reason: "client keys are never given cells")))], socket: socket)
        case .statusRequest:
            try execute([.send(peer, .statusReply(statusReply(now: time)))], socket: socket)
        case .done(var done):
            if let cell = scheduler.cells[done.cell], cell.state == .running, cell.attempt == done.attempt,
                done.attempt > 1
            {
                done.summary = ResumedCommandSummary.merged(done.summary, merged: try results.mergedMetrics(cell))
            }
            try execute(scheduler.handle(.done(done), from: peer, now: time), socket: socket)
        default:
            try execute(scheduler.handle(message, from: peer, now: time), socket: socket)
        }
    }

    /// CHUNK and FETCH bypass the scheduler but count as traffic of the session: the scheduler refreshes it, or
    /// answers an unknown peer with DISCONNECT. Returns whether the peer has a live session.
    func refresh(_ peer: PeerID, now time: Double, socket: any Outbox) throws -> Bool {
        try execute(scheduler.handle(.heartbeat(Heartbeat()), from: peer, now: time), socket: socket)
        return scheduler.isLive(peer)
    }

    // MARK: - Adaptive seeds

    /// At most every 0.2 s (at once when every cell has finished): the planner decides over the scheduler's cells and
    /// the latest verdicts; the cells it adds are stored in the ledger (one transaction) before the scheduler gets
    /// them, and the sweep stays unfinished until it settles. A failed write is logged and tried again next time.
    func planAdaptiveSeeds(socket: any Outbox) throws {
        guard var planner = adaptive else { return }
        let time = now
        guard scheduler.allCellsFinished || time - lastAdaptiveStep >= 0.2 else { return }
        lastAdaptiveStep = time
        let step = planner.step(cells: scheduler.cells.values, mailbox: adaptiveMailbox)
        adaptive = planner
        for line in step.logs { schedulerLogger.info("\(line)") }
        if !step.records.isEmpty {
            do {
                let stored = try setup.ledger.addPlannedCells(step.records)
                ledgerChanged = true
                try execute(scheduler.addCells(stored, now: time), socket: socket)
            } catch  where Self.mayPass(error) {
                note("cannot add cells of a later seed: \(error); tried again", kind: "state_write_failed")
                return
            }
        }
        let settled = step.settled && step.records.isEmpty
        scheduler.awaitingPlan = !settled
        if settled && scheduler.allCellsFinished {
            // The judge has seen the final cells and asks for nothing more: the plan is final.
            adaptive = nil
            schedulerLogger.info("adaptive seeds: settled; the sweep's plan is final")
        }
    }

    // MARK: - Actions

    /// Runs `actions` in order; writes that fail for want of room wait in the backlog (with what acknowledges them).
    func execute(_ actions: [SchedulerAction], socket: any Outbox) throws {
        if let failure = try backlog.run(
            actions, now: now, isRetryable: Self.mayPass, perform: { try perform($0, socket: socket) })
        {
            note(
                "cannot write to the state directory: \(failure); the write and what acknowledges it wait, retried every second",
                kind: "state_write_failed")
        }
    }

    /// Whether a failed write may succeed later (a full disk, an I/O error), rather than being refused for good.
    public static func mayPass(_ error: any Error) -> Bool {
        guard let error = error as? LedgerError else { return true }
        return error.kind == .full || error.kind == .database
    }

    func perform(_ action: SchedulerAction, socket: any Outbox) throws {
        let ledger = setup.ledger
        switch action {
        case .send(let peer, let message):
            do {
                if try !socket.deliver(message, to: peer) { count("send_backpressure") }
            } catch {
                count("send_unroutable")
            }
        case .saveCell(let cell, let starting, let ending):
            try ledger.update(
                cell, startingAttempt: starting,
                endingAttempt: ending.map { ($0.attempt, $0.outcome, $0.reason, $0.at) })
            ledgerChanged = true
        case .storeMetrics(let record):
            _ = try ledger.appendMetrics(record)
            ledgerChanged = true
        case .saveWorker(let worker):
            try ledger.upsertWorker(worker)
            ledgerChanged = true
        case .recordCellFile(let file):
            try ledger.addCellFile(file)
            ledgerChanged = true
        case .addArtifact(let record):
            try ledger.addArtifact(record)
            ledgerChanged = true
        case .finishCell(let cell):
            try results.write(cell)
            collectionDue = true
        case .acceptOffer(let peer, let offer):
            try transfer(receiver.accept(offer, peer: peer, now: now), peer: peer, socket: socket)
        case .appendLog(let cell, let attempt, let lines):
            if let problem = logs.append(lines, variant: cell.variant, seed: cell.seed, attempt: attempt) {
                if let shown = throttle.admit(problem, kind: "log_write_failed", now: now) {
                    logger.warning("\(shown)")
                }
            }
        case .count(let name):
            count(name)
        case .saveCancelled(let variants):
            try ledger.setCancelledVariants(variants, at: now)
            ledgerChanged = true
        case .extendPlan(let seeds, let cells):
            try ledger.extend(seeds: seeds, cells: cells, at: now)
            ledgerChanged = true
        case .log(let line, let level):
            schedulerLogger.log(level: level, "\(line)")
        case .logRepeated(let line, let kind):
            if let shown = throttle.admit(line, kind: kind, now: now) { schedulerLogger.warning("\(shown)") }
        }
    }

    func count(_ name: String) {
        counters[name, default: 0] += 1
    }

    /// Counts one event under `kind` and logs `line` through the throttle (nil: count only).
    func note(_ line: String?, kind: String) {
        count(kind)
        if let line, let shown = throttle.admit(line, kind: kind, now: now) { logger.warning("\(shown)") }
    }

    /// A routing id in logs: its first 8 bytes in hex.
    static func describe(_ peer: PeerID) -> String {
        peer.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

}
