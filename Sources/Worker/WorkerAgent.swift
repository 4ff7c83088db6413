// WorkerAgent: the worker process's network loop — one DEALER, files and job threads, around the pure `WorkerCore`.
import AblateSupport
import Foundation
import Logging
import NN
import RunSpec
import TransferKit
import WireProtocol

/// Connects to a coordinator, fetches what cells need, trains them on their own threads and streams metrics and
/// checkpoints back. Every decision is `WorkerCore`'s: this loop polls the socket and the inbox doorbell, feeds the
/// core and performs its actions (socket sends, download files, job threads). Heartbeats come from this loop, never
/// from training, so a long epoch is not mistaken for death. The DEALER is created, used and closed on the thread
/// that calls `run`.
public final class WorkerAgent {
    public let options: WorkerOptions
    private var core: WorkerCore
    private let context: ZMQContext
    private var socket: ZMQSocket?
    private var downloads: [String: ArtifactDownload] = [:]
    /// The cancel flag of each job thread started and not yet returned or cancelled, by `cell#attempt`.
    private var cancelFlags: [String: CancelFlag] = [:]
    /// The outbox file being streamed, mapped (see `ChunkSource`).
    private let chunkSource = ChunkSource()
    private let inbox: WorkerInbox
    private let cache: ArtifactCache
    private let clockStart = Date()
    /// The loop's lines (`worker`) and the training threads' (`trainer`).
    private let logger: Logger
    private let trainerLogger: Logger
    /// Called after every loop iteration (at most ~100 ms apart): the systemd watchdog and status hook.
    public var onTick: ((WorkerActivity) -> Void)?

    /// `makeLogger` makes the logger of a component from its label (`worker`, `trainer`); by default swift-log's
    /// bootstrapped factory.
    public init(options: WorkerOptions, makeLogger: (String) -> Logger = { Logger(label: $0) }) throws {
        self.options = options
        logger = makeLogger("worker")
        trainerLogger = makeLogger("trainer")
        core = WorkerCore(
            options: options, incarnation: String(UInt64.random(in: 1...UInt64.max), radix: 16),
            host: ProcessInfo.processInfo.hostName, blasCore: BLAS.coreName)
        context = try ZMQContext()
        inbox = try WorkerInbox()
        // The host's cache (`--cache-dir`, shared by its workers) holds the fetched artifacts beside the prefix caches.
        cache = try ArtifactCache(directory: "\(options.cacheDirectory ?? "\(options.workDirectory)/cache")/artifacts")
        for sub in ["outbox", "runs"] {
            try FileManager.default.createDirectory(
                atPath: "\(options.workDirectory)/\(sub)", withIntermediateDirectories: true)
        }
    }

    private var now: Double { Date().timeIntervalSince(clockStart) }

    /// Runs until `shouldStop` returns true (checked at least every 100 ms) or, with `options.exitWhenFinished`, the
    /// coordinator says the sweep is finished; then stops gracefully (`WorkerCore.stop`): running jobs are cancelled
    /// at their next batch (their last completed epoch stays the resume point), what they produced is flushed and
    /// their cells are released, within `options.stopTimeout`.
    public func run(shouldStop: () -> Bool) throws {
        try perform(core.start(now: now))
        while !shouldStop(), !core.exitRequested { try serviceOnce() }
        try perform(core.stop(now: now))
        while !core.isStopped { try serviceOnce() }
        for flag in cancelFlags.values { flag.set() }
        socket?.close()
        socket = nil
    }

    /// One loop iteration: wait up to 100 ms, feed the core the messages and thread events, then the clock.
    private func serviceOnce() throws {
        _ = try ZMQPoller(sockets: socket.map { [$0] } ?? [], fds: [inbox.doorbell.fd]).poll(timeoutMs: 100)
        while let socket, let frames = try socket.receiveFrames() {
            let message: Message
            do {
                message = try MessageCodec.decode(frames)
            } catch {
                logger.warning("dropped a malformed message from the coordinator: \(error)")
                continue
            }
            try perform(core.received(message, now: now, cached: cache.has))
        }
        for event in inbox.drain() {
            switch event {
            case .finished(let cell, let attempt, _), .failed(let cell, let attempt, _, _),
                .cancelled(let cell, let attempt):
                cancelFlags[WorkerCore.threadKey(cell, attempt)] = nil
            default:
                break
            }
            try perform(core.handle(event, now: now))
        }
        try perform(core.tick(now: now))
        onTick?(core.activity)
    }

    // MARK: - Actions

    private func perform(_ actions: [WorkerAction]) throws {
        for action in actions {
            switch action {
            case .reopenSocket:
                reopenSocket()
            case .send(let message):
                core.sent(message, queued: trySend(message), now: now)
            case .sendChunk(let order, let corrupt):
                try perform(sendChunk(order, corrupt: corrupt))
            case .reachFault(let phase):
                FaultPoint.shared.reach(phase)
            case .openDownload(let ref):
                let complete: Bool
                do {
                    let download = try ArtifactDownload(ref: ref, cache: cache)
                    downloads[ref.sha256] = download
                    complete = if case .complete = try download.completeIfEmpty() ?? .partial { true } else { false }
                } catch {
                    downloads[ref.sha256] = nil
                    try perform(core.downloadNotOpened(sha256: ref.sha256, reason: "\(error)"))
                    continue
                }
                try perform(core.downloadOpened(sha256: ref.sha256, complete: complete))
            case .requestFetches(let sha256, let window, let chunkBytes):
                guard let download = downloads[sha256] else { continue }
                try perform(download.requests(window: window, chunkBytes: chunkBytes).map { .send(.fetch($0)) })
            case .resumeDownload(let sha256, let window, let chunkBytes):
                guard let download = downloads[sha256] else { continue }
                download.connectionReset()
                try perform(download.requests(window: window, chunkBytes: chunkBytes).map { .send(.fetch($0)) })
            case .writeDownload(let chunk):
                guard let download = downloads[chunk.sha256] else { continue }
                let progress: ArtifactDownload.Progress
                do {
                    progress = try download.receive(chunk)
                } catch {
                    logger.error("cannot store \(download.ref.name): \(error)")
                    continue
                }
                try perform(core.downloadProgress(sha256: chunk.sha256, progress))
            case .closeDownload(let sha256):
                downloads[sha256] = nil
            case .startTraining(let assign, let config):
                startTraining(assign, config: config)
            case .startCommand(let assign, let command, let gpu):
                startCommand(assign, command: command, gpu: gpu)
            case .cancelJob(let cell, let attempt):
                cancelFlags.removeValue(forKey: WorkerCore.threadKey(cell, attempt))?.set()
            case .discardSnapshot(let path):
                chunkSource.forget(path)
                try? FileManager.default.removeItem(atPath: path)
            case .lingerBeforeClose:
                try socket?.setOption(ZMQOption.linger, Int32(2000))
            case .exitAtOnce:
                _exit(1)
            case .log(let line, let level):
                logger.log(level: level, "\(line)")
            }
        }
    }

    private func reopenSocket() {
        socket?.close()
        do {
            let fresh = try ZMQSocket(context, type: .dealer)
            try fresh.configureWorkerDealer()
            if let curve = options.curve { try fresh.configureCurveClient(curve) }
            try fresh.connect(options.endpoint)
            socket = fresh
        } catch {
            logger.error("cannot open a connection to \(options.endpoint): \(error)")
            socket = nil
        }
    }

    /// Sends without blocking; false when the message could not be queued (no connection yet: ZMQ_IMMEDIATE).
    private func trySend(_ message: Message) -> Bool {
        guard let socket else { return false }
        do {
            return try socket.send(MessageCodec.encode(message))
        } catch {
            logger.warning("send failed: \(error)")
        }
        return false
    }

    /// Sends one CHUNK and tells the core whether it was queued (nothing when there is no socket or the file
    /// cannot be read).
    private func sendChunk(_ order: ChunkOrder, corrupt: Bool) -> [WorkerAction] {
        guard let socket else { return [] }
        do {
            let queued = try socket.sendChunk(order, from: chunkSource, corruptFirstByte: corrupt)
            return core.sentChunk(order, corrupted: corrupt, queued: queued, now: now)
        } catch let error as FileWriteError {
            logger.error("cannot read \(order.path): \(error)")
        } catch {
            logger.warning("send failed: \(error)")
        }
        return []
    }

    // MARK: - Job threads

    private func startTraining(_ assign: Assign, config: TrainingConfig) {
        let runDirectory = "\(options.workDirectory)/runs/\(assign.cell)-a\(assign.attempt)"
        try? FileManager.default.removeItem(atPath: runDirectory)
        let spec = JobSpec(
            assign: assign, config: config, datasetPath: assign.dataset.map { cache.path($0.sha256) } ?? "",
            stage1Path: assign.stage1.map { cache.path($0.sha256) },
            resumePath: assign.resume.map { cache.path($0.sha256) }, runDirectory: runDirectory,
            outboxDirectory: "\(options.workDirectory)/outbox",
            cacheDirectory: options.cacheDirectory ?? "\(options.workDirectory)/cache",
            codeVersion: options.codeVersion, checkpointInterval: options.checkpointInterval)
        JobRunner.start(spec, inbox: inbox, cancel: newCancelFlag(assign), logger: trainerLogger)
    }

    private func startCommand(_ assign: Assign, command: [String], gpu: Int?) {
        let spec = CommandJobSpec(
            assign: assign, argv: command,
            runDirectory: "\(options.workDirectory)/runs/\(assign.cell)-a\(assign.attempt)",
            outboxDirectory: "\(options.workDirectory)/outbox", gpu: gpu,
            datasetPath: assign.dataset.map { cache.path($0.sha256) },
            stage1Path: assign.stage1.map { cache.path($0.sha256) },
            resumePath: assign.resume.map { cache.path($0.sha256) },
            execGuard: options.execGuard, timeoutSeconds: assign.timeoutSeconds,
            inputs: (assign.inputs ?? []).map {
                CommandInput(ref: $0, artifactPath: cache.path($0.artifact.sha256), inputsDirectory: inputsDirectory)
            })
        CommandJob.start(spec, inbox: inbox, cancel: newCancelFlag(assign))
    }

    /// Where directory inputs are materialised: `inputs/` of the host's cache, beside `artifacts/`.
    private var inputsDirectory: String { "\(options.cacheDirectory ?? "\(options.workDirectory)/cache")/inputs" }

    private func newCancelFlag(_ assign: Assign) -> CancelFlag {
        let flag = CancelFlag()
        cancelFlags[WorkerCore.threadKey(assign.cell, assign.attempt)] = flag
        return flag
    }
}
