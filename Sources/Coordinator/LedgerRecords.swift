// LedgerRecords: the value types stored in the coordinator's ledger (cells, attempts, metrics, files, workers).
import Foundation

/// Where a cell stands in the sweep. A cell reaches `done` exactly once; `failed` is final too.
public enum CellState: String, Sendable, Equatable, Codable, CaseIterable {
    case pending, running, done, failed
}

/// One cell of the sweep (variant × seed × stage) with its scheduling state.
public struct CellRecord: Sendable, Equatable, Codable {
    /// 64 lowercase hex digits identifying the cell.
    public var id: String
    public var variant: String
    /// Stored as the Int64 with the same bit pattern.
    public var seed: UInt64
    public var stage: String
    /// The resolved training configuration, as JSON.
    public var configJSON: String
    /// The cell whose result this one needs first (e.g. a stage-1 checkpoint), if any.
    public var dependsOn: String?
    /// Order of the cell in the sweep.
    public var position: Int
    public var state: CellState
    /// Last attempt number assigned (the fencing token); 0 when never assigned.
    public var attempt: Int
    /// Attempts that failed so far.
    public var failures: Int
    /// Worker holding the running attempt.
    public var worker: String?
    public var epochsDone: Int
    public var epochs: Int
    public var bestValMacroF1: Double?
    /// SHA-256 of the last verified `last.h5`, from which a new attempt resumes.
    public var resumeSHA256: String?
    /// Epoch reached by that `last.h5`.
    public var resumeEpoch: Int
    /// Why the cell failed (or why its last attempt ended), if it did.
    public var reason: String?
    /// The run's `summary.json`, once done.
    public var summaryJSON: String?
    /// Unix seconds of the last change.
    public var updatedAt: Double

    /// A cell; the scheduling fields default to a fresh, never assigned cell.
    public init(
        id: String, variant: String, seed: UInt64, stage: String, configJSON: String, dependsOn: String? = nil,
        position: Int, epochs: Int, state: CellState = .pending, attempt: Int = 0, failures: Int = 0,
        worker: String? = nil, epochsDone: Int = 0, bestValMacroF1: Double? = nil, resumeSHA256: String? = nil,
        resumeEpoch: Int = 0, reason: String? = nil, summaryJSON: String? = nil,
        updatedAt: Double = Date().timeIntervalSince1970
    ) {
        self.id = id
        self.variant = variant
        self.seed = seed
        self.stage = stage
        self.configJSON = configJSON
        self.dependsOn = dependsOn
        self.position = position
        self.epochs = epochs
        self.state = state
        self.attempt = attempt
        self.failures = failures
        self.worker = worker
        self.epochsDone = epochsDone
        self.bestValMacroF1 = bestValMacroF1
        self.resumeSHA256 = resumeSHA256
        self.resumeEpoch = resumeEpoch
        self.reason = reason
        self.summaryJSON = summaryJSON
        self.updatedAt = updatedAt
    }
}

/// How an attempt ended; the raw values are those `AttemptRecord.outcome` holds.
public enum AttemptOutcome: String, Sendable, Equatable, Codable, CaseIterable {
    case done, failed, lost, cancelled
}

/// One attempt at a cell: assigned to a worker's session, ended with an outcome.
public struct AttemptRecord: Sendable, Equatable, Codable {
    public var cell: String
    public var attempt: Int
    public var worker: String
    public var session: String
    public var startedAt: Double
    public var endedAt: Double?
    /// "done", "failed", "lost" or "cancelled"; nil while the attempt runs.
    public var outcome: String?
    public var reason: String?

    /// An attempt; the ending fields default to an attempt still running.
    public init(
        cell: String, attempt: Int, worker: String, session: String, startedAt: Double, endedAt: Double? = nil,
        outcome: String? = nil, reason: String? = nil
    ) {
        self.cell = cell
        self.attempt = attempt
        self.worker = worker
        self.session = session
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.reason = reason
    }
}

/// One epoch report of an attempt (a METRICS message), unique on (cell, attempt, seq).
public struct MetricsRecord: Sendable, Equatable, Codable {
    public var cell: String
    public var attempt: Int
    public var seq: Int
    public var epoch: Int
    public var valMacroF1: Double
    /// One metrics.jsonl line (JSON object, no newline).
    public var record: String
    public var receivedAt: Double

    public init(
        cell: String, attempt: Int, seq: Int, epoch: Int, valMacroF1: Double, record: String, receivedAt: Double
    ) {
        self.cell = cell
        self.attempt = attempt
        self.seq = seq
        self.epoch = epoch
        self.valMacroF1 = valMacroF1
        self.record = record
        self.receivedAt = receivedAt
    }
}

/// A verified file in the coordinator's content-addressed artifact store.
public struct ArtifactRecord: Sendable, Equatable, Codable {
    /// 64 lowercase hex digits.
    public var sha256: String
    public var size: Int64
    /// Path relative to the state directory.
    public var path: String
    public var addedAt: Double

    public init(sha256: String, size: Int64, path: String, addedAt: Double) {
        self.sha256 = sha256
        self.size = size
        self.path = path
        self.addedAt = addedAt
    }
}

/// A file an attempt produced (`last.h5`, `best.h5`, `predictions.h5`, `summary.json`), by its artifact hash.
public struct CellFileRecord: Sendable, Equatable, Codable {
    public var cell: String
    public var attempt: Int
    public var name: String
    public var epoch: Int
    public var sha256: String

    public init(cell: String, attempt: Int, name: String, epoch: Int, sha256: String) {
        self.cell = cell
        self.attempt = attempt
        self.name = name
        self.epoch = epoch
        self.sha256 = sha256
    }
}

/// A worker as last introduced by its HELLO.
public struct WorkerRecord: Sendable, Equatable, Codable {
    public var name: String
    /// Random per worker process; changes when the worker restarts.
    public var incarnation: String
    public var host: String
    public var threads: Int
    public var gpu: Int?
    public var slots: Int
    public var codeVersion: String
    public var blasCore: String
    public var firstSeen: Double
    public var lastSeen: Double
    /// The GPUs its HELLO reported (`gpus`), nil for none (or a worker from before HELLO carried them).
    public var gpus: [Int]?

    public init(
        name: String, incarnation: String, host: String, threads: Int, gpu: Int?, slots: Int, codeVersion: String,
        blasCore: String, firstSeen: Double, lastSeen: Double, gpus: [Int]? = nil
    ) {
        self.name = name
        self.incarnation = incarnation
        self.host = host
        self.threads = threads
        self.gpu = gpu
        self.slots = slots
        self.codeVersion = codeVersion
        self.blasCore = blasCore
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.gpus = gpus
    }
}
