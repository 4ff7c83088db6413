// Messages: every message of the coordinator–worker protocol, defined once (wire layout in docs/protocol.md).
import Foundation

/// The protocol's identity on the wire: frame 0 of every message is `"ABL"` followed by the major version byte.
public enum ProtocolVersion {
    /// The major version; a peer with another major version is refused before anything else is decoded.
    public static let major: UInt8 = 1
    /// The signature frame: `41 42 4C 01`.
    public static let signature: [UInt8] = [0x41, 0x42, 0x4C, major]
}

/// The command byte (frame 1) of each message.
public enum Command: UInt8, Sendable, CaseIterable {
    case hello = 1
    case welcome = 2
    case heartbeat = 3
    case assign = 4
    case metrics = 5
    case metricsAck = 6
    case offer = 7
    case credit = 8
    case chunk = 9
    case stored = 10
    case fetch = 11
    case data = 12
    case fetchError = 13
    case done = 14
    case doneAck = 15
    case failed = 16
    case cancel = 17
    case disconnect = 18
    case statusRequest = 19
    case statusReply = 20
    case release = 21
    case log = 22
    case control = 23
    case controlReply = 24
    case submit = 25
    case submitReply = 26
    case upload = 27
    case uploadAck = 28
}

/// A file known by its content: SHA-256 (lower-case hex) and size. `name` says what it is for (`dataset.h5`,
/// `stage1.h5`, `last.h5`, …).
public struct ArtifactRef: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var sha256: String
    public var size: Int64
    public init(name: String, sha256: String, size: Int64) {
        self.name = name
        self.sha256 = sha256
        self.size = size
    }
}

/// A job a worker holds: its cell, attempt (fencing token) and progress.
public struct JobProgress: Codable, Sendable, Equatable {
    /// What a run is doing inside an epoch.
    public enum Phase: String, Codable, Sendable, CaseIterable {
        /// Building the frozen-prefix cache (before the first epoch).
        case cache
        /// Training the epoch's rows.
        case train
        /// Validating after the epoch's training.
        case validate
    }

    public var cell: String
    public var attempt: Int
    /// Epochs completed so far in this attempt (including those before a resume).
    public var epoch: Int
    /// The phase the run is in and its rows done of total, with the rate since the phase began; all absent when
    /// the worker does not know (a command) — optional on the wire, older coordinators ignore them.
    public var phase: Phase?
    public var rowsDone: Int?
    public var rowsTotal: Int?
    public var rowsPerSecond: Double?
    public init(
        cell: String, attempt: Int, epoch: Int, phase: Phase? = nil, rowsDone: Int? = nil, rowsTotal: Int? = nil,
        rowsPerSecond: Double? = nil
    ) {
        self.cell = cell
        self.attempt = attempt
        self.epoch = epoch
        self.phase = phase
        self.rowsDone = rowsDone
        self.rowsTotal = rowsTotal
        self.rowsPerSecond = rowsPerSecond
    }
}

/// Worker → coordinator, first message of a session.
public struct Hello: Codable, Sendable, Equatable {
    /// Stable worker name (e.g. `host-gpu0`).
    public var worker: String
    /// Random per process (hex), so a restarted worker is told apart from a reconnecting one.
    public var incarnation: String
    public var host: String
    public var threads: Int
    public var gpu: Int?
    public var slots: Int
    public var codeVersion: String
    public var blasCore: String
    /// Jobs this process is still running or holding results of.
    public var resuming: [JobProgress]
    /// The GPUs the worker's jobs are pinned to (`--gpus`, or `[gpu]` with `--gpu`); nil (absent) for none. `gpu`
    /// stays as before for older readers. Checked at decode time (`ExecutionField.gpusProblem`).
    public var gpus: [Int]?
    /// A tag shown next to the worker's name (e.g. `slurm:1234_5`); absent when the worker has none (`WorkerLabel`).
    public var label: String?
    public init(
        worker: String, incarnation: String, host: String, threads: Int, gpu: Int?, slots: Int, codeVersion: String,
        blasCore: String, resuming: [JobProgress], gpus: [Int]? = nil, label: String? = nil
    ) {
        self.worker = worker
        self.incarnation = incarnation
        self.host = host
        self.threads = threads
        self.gpu = gpu
        self.slots = slots
        self.codeVersion = codeVersion
        self.blasCore = blasCore
        self.resuming = resuming
        self.label = label
        self.gpus = gpus
    }
}

/// Coordinator → worker: the session is open; timing and transfer settings.
public struct Welcome: Codable, Sendable, Equatable {
    public var session: String
    /// Changes every time the coordinator process starts.
    public var coordinatorIncarnation: String
    public var heartbeatMs: Int
    public var liveness: Int
    public var chunkBytes: Int
    /// Chunks in flight per transfer.
    public var window: Int
    /// True when every cell of the sweep is done or failed: nothing will be assigned (absent otherwise).
    public var sweepFinished: Bool?
    public init(
        session: String, coordinatorIncarnation: String, heartbeatMs: Int, liveness: Int, chunkBytes: Int, window: Int,
        sweepFinished: Bool? = nil
    ) {
        self.session = session
        self.coordinatorIncarnation = coordinatorIncarnation
        self.heartbeatMs = heartbeatMs
        self.liveness = liveness
        self.chunkBytes = chunkBytes
        self.window = window
        self.sweepFinished = sweepFinished
    }
}

/// Both ways; the worker's carries the progress of its jobs.
public struct Heartbeat: Codable, Sendable, Equatable {
    public var progress: [JobProgress]
    public init(progress: [JobProgress] = []) { self.progress = progress }
}

/// Coordinator → worker: train one cell.
public struct Assign: Codable, Sendable, Equatable {
    public var cell: String
    /// The fencing token: messages about an older attempt are ignored.
    public var attempt: Int
    public var variant: String
    public var seed: UInt64
    /// The resolved training config (TrainingConfig's canonical JSON).
    public var config: String
    /// The sweep's dataset; nil (absent) for a command cell of a sweep without one.
    public var dataset: ArtifactRef?
    public var stage1: ArtifactRef?
    /// The last verified `last.h5` to resume from.
    public var resume: ArtifactRef?
    /// The user command for bring-your-own-trainer cells (argv, placeholders filled); nil for the native trainer.
    public var command: [String]?
    /// The attempt's time limit in seconds (the worker ends a command that runs longer); nil for none.
    public var timeoutSeconds: Double?
    /// A command cell's own settings (`params:` of the sweep) as one JSON object text, names → scalars or lists
    /// of scalars (`CommandParams.canonicalJSON`); nil (absent) when the cell has none. Checked at decode time
    /// against `FieldLimits` (`ParamsField`).
    public var params: String?
    /// A command cell's extra environment variables (`env:` of the sweep), name → value with `{out}` and `{gpu}`
    /// left for the worker; nil (absent) for none. Checked at decode time (`ExecutionField`).
    public var env: [String: String]?
    /// The directory a command runs in on the worker's host (absolute, or relative to the worker's working
    /// directory); nil (absent): the worker's working directory.
    public var workdir: String?
    /// The file below `$ABLATE_OUT` a command resumes from (`resume_file:`); nil (absent): `last.h5`.
    public var resumeFile: String?
    /// Glob patterns below `$ABLATE_OUT` of the files a command's worker streams (`checkpoints:`); nil (absent): the
    /// default patterns.
    public var checkpoints: [String]?
    /// A command cell's inputs (`inputs:` of the sweep), each fetched by its artifact's hash and exposed as
    /// `ABLATE_INPUT_<NAME>`; nil (absent) for none. Checked at decode time (`InputsField`).
    public var inputs: [InputRef]?
    /// The key every `metrics.jsonl` line of a command cell must carry as a number: the sweep's metric (`metric:`)
    /// when it is not `val_macro_f1`; nil (absent): `val_macro_f1`. Checked at decode time (`MetricKey`).
    public var metric: String?
    public init(
        cell: String, attempt: Int, variant: String, seed: UInt64, config: String, dataset: ArtifactRef?,
        stage1: ArtifactRef?, resume: ArtifactRef?, command: [String]? = nil, timeoutSeconds: Double? = nil,
        params: String? = nil, env: [String: String]? = nil, workdir: String? = nil, resumeFile: String? = nil,
        checkpoints: [String]? = nil, inputs: [InputRef]? = nil, metric: String? = nil
    ) {
        self.cell = cell
        self.attempt = attempt
        self.variant = variant
        self.seed = seed
        self.config = config
        self.dataset = dataset
        self.stage1 = stage1
        self.resume = resume
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.params = params
        self.env = env
        self.workdir = workdir
        self.resumeFile = resumeFile
        self.checkpoints = checkpoints
        self.inputs = inputs
        self.metric = metric
    }
}

/// Worker → coordinator, one per epoch (binary layout, see `BinaryLayout`).
public struct MetricsReport: Sendable, Equatable {
    /// Cell id (64 hex characters = 32 bytes on the wire).
    public var cell: String
    public var attempt: Int
    /// 1, 2, … per (cell, attempt); resent until acknowledged, deduplicated by the coordinator.
    public var seq: Int
    public var epoch: Int
    public var valMacroF1: Double
    public var valLoss: Double
    public var trainLoss: Double
    public var seconds: Double
    /// The full epoch record, one `metrics.jsonl` line (UTF-8 JSON, no newline).
    public var record: String
    public init(
        cell: String, attempt: Int, seq: Int, epoch: Int, valMacroF1: Double, valLoss: Double, trainLoss: Double,
        seconds: Double, record: String
    ) {
        self.cell = cell
        self.attempt = attempt
        self.seq = seq
        self.epoch = epoch
        self.valMacroF1 = valMacroF1
        self.valLoss = valLoss
        self.trainLoss = trainLoss
        self.seconds = seconds
        self.record = record
    }
}

/// Coordinator → worker: every metrics report up to `seq` of (cell, attempt) is stored.
public struct MetricsAck: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    public var seq: Int
    public init(cell: String, attempt: Int, seq: Int) {
        self.cell = cell
        self.attempt = attempt
        self.seq = seq
    }
}

/// Worker → coordinator: a file of a cell is ready to send.
public struct Offer: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    /// After which epoch it was written (0 when not tied to one).
    public var epoch: Int
    public var file: ArtifactRef
    public init(cell: String, attempt: Int, epoch: Int, file: ArtifactRef) {
        self.cell = cell
        self.attempt = attempt
        self.epoch = epoch
        self.file = file
    }
}

/// Coordinator → worker: send chunks of `sha256` starting at `offset` (the bytes already held), up to `chunks` more.
public struct Credit: Codable, Sendable, Equatable {
    public var sha256: String
    public var offset: Int64
    public var chunks: Int
    public init(sha256: String, offset: Int64, chunks: Int) {
        self.sha256 = sha256
        self.offset = offset
        self.chunks = chunks
    }
}

/// One piece of a file (binary header, payload in frame 3). Used both for checkpoints (CHUNK) and fetched
/// artifacts (DATA).
public struct FileChunk: Sendable, Equatable {
    public var sha256: String
    public var offset: Int64
    /// The whole file's size.
    public var totalSize: Int64
    /// The bytes; a received payload stays in its libzmq message (see `FrameBytes`).
    public var payload: FrameBytes
    public init(sha256: String, offset: Int64, totalSize: Int64, payload: FrameBytes) {
        self.sha256 = sha256
        self.offset = offset
        self.totalSize = totalSize
        self.payload = payload
    }

    public init(sha256: String, offset: Int64, totalSize: Int64, payload: [UInt8]) {
        self.init(sha256: sha256, offset: offset, totalSize: totalSize, payload: FrameBytes(payload))
    }
}

/// Coordinator → worker: the outcome of a transfer.
public struct Stored: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case ok
        /// The bytes did not hash to the offered SHA-256; offer again from offset 0.
        case hashMismatch = "hash_mismatch"
        /// The offer belongs to an attempt that is no longer current.
        case stale
    }
    public var sha256: String
    public var status: Status
    public init(sha256: String, status: Status) {
        self.sha256 = sha256
        self.status = status
    }
}

/// Worker → coordinator: send `length` bytes of the artifact `sha256` from `offset`.
public struct Fetch: Codable, Sendable, Equatable {
    public var sha256: String
    public var offset: Int64
    public var length: Int
    public init(sha256: String, offset: Int64, length: Int) {
        self.sha256 = sha256
        self.offset = offset
        self.length = length
    }
}

/// Coordinator → worker: a fetch cannot be served.
public struct FetchError: Codable, Sendable, Equatable {
    public var sha256: String
    public var reason: String
    public init(sha256: String, reason: String) {
        self.sha256 = sha256
        self.reason = reason
    }
}

/// Worker → coordinator: the cell finished; every file in `files` has been stored.
public struct Done: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    /// `summary.json` of the run.
    public var summary: String
    public var files: [ArtifactRef]
    public init(cell: String, attempt: Int, summary: String, files: [ArtifactRef]) {
        self.cell = cell
        self.attempt = attempt
        self.summary = summary
        self.files = files
    }
}

/// Coordinator → worker: the outcome of DONE or FAILED.
public struct DoneAck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case ok
        case stale
        /// Some listed file has not been stored; send it and report again.
        case missingFiles = "missing_files"
    }
    public var cell: String
    public var attempt: Int
    public var status: Status
    public init(cell: String, attempt: Int, status: Status) {
        self.cell = cell
        self.attempt = attempt
        self.status = status
    }
}

/// Worker → coordinator: the attempt failed.
public struct Failed: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    public var reason: String
    /// True when running it again cannot help (bad config, diverged); the cell then fails at once.
    public var deterministic: Bool
    public init(cell: String, attempt: Int, reason: String, deterministic: Bool) {
        self.cell = cell
        self.attempt = attempt
        self.reason = reason
        self.deterministic = deterministic
    }
}

/// Coordinator → worker: stop this job (it was reassigned, finished elsewhere, or cancelled).
public struct Cancel: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    public var reason: String
    public init(cell: String, attempt: Int, reason: String) {
        self.cell = cell
        self.attempt = attempt
        self.reason = reason
    }
}

/// Worker → coordinator: the worker is stopping (SIGTERM) and gives the cell back unfinished; the coordinator
/// requeues it at once, without counting a failure. Fenced by `attempt`.
public struct Release: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    public var reason: String
    public init(cell: String, attempt: Int, reason: String) {
        self.cell = cell
        self.attempt = attempt
        self.reason = reason
    }
}

/// Coordinator → worker: the session is unknown or expired, the version is refused, or the sweep is finished; say
/// HELLO again (see `Disconnect.sweepFinished`).
public struct Disconnect: Codable, Sendable, Equatable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Any client → coordinator: ask for the cell table.
public struct StatusRequest: Codable, Sendable, Equatable {
    /// The sweep asked about (a name); absent: the only sweep a coordinator serves. A lab that serves several
    /// answers a request without it (or with an unknown name) with no rows and the names in `sweeps`.
    public var sweep: String?
    public init(sweep: String? = nil) { self.sweep = sweep }
}

/// Coordinator → client: one row per cell.
public struct StatusReply: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var cell: String
        public var variant: String
        public var seed: UInt64
        public var stage: String
        public var state: String
        public var worker: String?
        /// The label of that worker's latest HELLO (`WorkerLabel`); absent when it gave none.
        public var workerLabel: String?
        public var attempt: Int
        public var epoch: Int
        public var epochs: Int
        public var bestValMacroF1: Double?
        public var etaSeconds: Double?
        /// Why a failed cell failed (absent otherwise).
        public var reason: String?
        /// Worker seconds the cell's reported epochs took, every attempt (plus, while running, the time since its
        /// latest report); absent before its first report. Optional on the wire, as are the four below.
        public var elapsedSeconds: Double?
        /// Mean seconds of its latest epochs (at most 3).
        public var epochSeconds: Double?
        /// Training rows per second in its latest epoch (when the epoch record gives `train.support`).
        public var samplesPerSecond: Double?
        /// Training loss and validation macro-F1 of its latest epoch.
        public var trainLoss: Double?
        public var lastValMacroF1: Double?
        /// While running, where the worker's latest heartbeat put the run: `cache 40%`, `train 42%` or `validate`.
        public var phase: String?
        public init(
            cell: String, variant: String, seed: UInt64, stage: String, state: String, worker: String?, attempt: Int,
            epoch: Int, epochs: Int, bestValMacroF1: Double?, etaSeconds: Double?, reason: String? = nil,
            elapsedSeconds: Double? = nil, epochSeconds: Double? = nil, samplesPerSecond: Double? = nil,
            trainLoss: Double? = nil, lastValMacroF1: Double? = nil,
            workerLabel: String? = nil
        ) {
            self.elapsedSeconds = elapsedSeconds
            self.epochSeconds = epochSeconds
            self.samplesPerSecond = samplesPerSecond
            self.trainLoss = trainLoss
            self.lastValMacroF1 = lastValMacroF1
            self.cell = cell
            self.variant = variant
            self.seed = seed
            self.stage = stage
            self.state = state
            self.worker = worker
            self.attempt = attempt
            self.epoch = epoch
            self.epochs = epochs
            self.bestValMacroF1 = bestValMacroF1
            self.etaSeconds = etaSeconds
            self.reason = reason
            self.workerLabel = workerLabel
        }
    }
    /// A worker with an open session: its name, host, slots, GPUs and the cells it holds.
    public struct Worker: Codable, Sendable, Equatable {
        public var worker: String
        public var host: String
        public var slots: Int
        /// The GPUs its HELLO reported; nil for none.
        public var gpus: [Int]?
        /// Cells its session holds now.
        public var cells: Int
        /// The label of its latest HELLO (`WorkerLabel`); absent when it gave none.
        public var label: String?
        public init(worker: String, host: String, slots: Int, gpus: [Int]?, cells: Int, label: String? = nil) {
            self.worker = worker
            self.host = host
            self.slots = slots
            self.gpus = gpus
            self.cells = cells
            self.label = label
        }
    }
    public var sweep: String
    public var rows: [Row]
    /// Why the coordinator is paused (e.g. its state directory is full); absent while it is not. Optional on the
    /// wire: older coordinators never send it, older clients ignore it.
    public var paused: String?
    /// The whole sweep's progress (`StatusSummary`); optional on the wire: older coordinators never send it.
    public var summary: StatusSummary?
    /// The workers with an open session, by name; absent from older coordinators (and when none is connected).
    public var workers: [Worker]?
    /// A lab's answer to a request that names no sweep it serves: the names of those it does (sorted); absent
    /// otherwise.
    public var sweeps: [String]?
    public init(
        sweep: String, rows: [Row], paused: String? = nil, summary: StatusSummary? = nil, workers: [Worker]? = nil,
        sweeps: [String]? = nil
    ) {
        self.sweeps = sweeps
        self.sweep = sweep
        self.rows = rows
        self.paused = paused
        self.summary = summary
        self.workers = workers
    }
}

/// A sweep's progress in one line: cells by state, an estimate of the time left, and the worker time spent.
public struct StatusSummary: Codable, Sendable, Equatable {
    public var cells: Int
    public var done: Int
    public var running: Int
    public var failed: Int
    /// Seconds until every cell not yet done or failed ends, at the paces measured so far with today's number of
    /// running cells (an upper bound when early stopping ends cells sooner); absent while no pace is known.
    public var etaSeconds: Double?
    /// Worker seconds spent in the epochs reported so far, every cell and attempt.
    public var workerSeconds: Double
    public init(cells: Int, done: Int, running: Int, failed: Int, etaSeconds: Double?, workerSeconds: Double) {
        self.cells = cells
        self.done = done
        self.running = running
        self.failed = failed
        self.etaSeconds = etaSeconds
        self.workerSeconds = workerSeconds
    }
}

/// Worker → coordinator: output lines of a job's command (best effort: never acknowledged nor resent).
public struct LogLines: Codable, Sendable, Equatable {
    public var cell: String
    public var attempt: Int
    /// Lines in order, without their newlines.
    public var lines: [String]
    public init(cell: String, attempt: Int, lines: [String]) {
        self.cell = cell
        self.attempt = attempt
        self.lines = lines
    }
}

/// Every message of the protocol.
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case welcome(Welcome)
    case heartbeat(Heartbeat)
    case assign(Assign)
    case metrics(MetricsReport)
    case metricsAck(MetricsAck)
    case offer(Offer)
    case credit(Credit)
    /// A checkpoint piece, worker → coordinator.
    case chunk(FileChunk)
    case stored(Stored)
    case fetch(Fetch)
    /// An artifact piece, coordinator → worker.
    case data(FileChunk)
    case fetchError(FetchError)
    case done(Done)
    case doneAck(DoneAck)
    case failed(Failed)
    case cancel(Cancel)
    case disconnect(Disconnect)
    case statusRequest(StatusRequest)
    case statusReply(StatusReply)
    case release(Release)
    case log(LogLines)
    case control(ControlRequest)
    case controlReply(ControlReply)
    case submit(SubmitRequest)
    case submitReply(SubmitReply)
    /// A piece of a file a client uploads (docs/protocol.md, "Submitting a sweep").
    case upload(Upload)
    case uploadAck(UploadAck)

    public var command: Command {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .heartbeat: .heartbeat
        case .assign: .assign
        case .metrics: .metrics
        case .metricsAck: .metricsAck
        case .offer: .offer
        case .credit: .credit
        case .chunk: .chunk
        case .stored: .stored
        case .fetch: .fetch
        case .data: .data
        case .fetchError: .fetchError
        case .done: .done
        case .doneAck: .doneAck
        case .failed: .failed
        case .cancel: .cancel
        case .disconnect: .disconnect
        case .statusRequest: .statusRequest
        case .statusReply: .statusReply
        case .release: .release
        case .log: .log
        case .control: .control
        case .controlReply: .controlReply
        case .submit: .submit
        case .submitReply: .submitReply
        case .upload: .upload
        case .uploadAck: .uploadAck
        }
    }
}
