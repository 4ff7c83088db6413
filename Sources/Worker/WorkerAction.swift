// WorkerAction: what the worker's network loop must do for its core — sends, downloads, job threads, exit.
import AblateSupport
import Logging
import RunSpec
import TransferKit
import WireProtocol

/// One thing `WorkerAgent` must do for `WorkerCore`, in order. The core decides; the agent owns the socket, the
/// files and the threads, performs the action and reports what only it can know back to the core (whether a
/// message could be queued, how a download piece went).
public enum WorkerAction: Equatable, Sendable {
    /// Close the DEALER and open a new one (a fresh routing id).
    case reopenSocket
    /// Send a message without blocking; report whether it was queued with `WorkerCore.sent`.
    case send(Message)
    /// Send one CHUNK of an outbox file; `corrupt` flips its first byte (fault injection). Report whether it was
    /// queued with `WorkerCore.sentChunk` (nothing when the file could not be read).
    case sendChunk(ChunkOrder, corrupt: Bool)
    /// Reach a fault-injection point (`FaultPoint`) before the next action.
    case reachFault(FaultPhase)
    /// Open a download of an artifact into the cache; report with `WorkerCore.downloadOpened` or
    /// `WorkerCore.downloadNotOpened`.
    case openDownload(ArtifactRef)
    /// Send the FETCH requests the download may have in flight now.
    case requestFetches(sha256: String, window: Int, chunkBytes: Int)
    /// A new session: nothing is in flight any more; ask again from the bytes held.
    case resumeDownload(sha256: String, window: Int, chunkBytes: Int)
    /// Append a DATA piece to its download; report the outcome with `WorkerCore.downloadProgress`.
    case writeDownload(FileChunk)
    /// Forget a download (complete, failed or no longer needed).
    case closeDownload(sha256: String)
    /// Start the training thread of an assignment.
    case startTraining(Assign, config: TrainingConfig)
    /// Start the thread of a command job, pinned to `gpu` (nil: none).
    case startCommand(Assign, command: [String], gpu: Int?)
    /// Ask a job's thread to stop at its next cancellation point.
    case cancelJob(cell: String, attempt: Int)
    /// The coordinator stored an outbox snapshot: unmap it and delete it.
    case discardSnapshot(path: String)
    /// The stop is over: close the socket with a linger that lets the RELEASE messages leave.
    case lingerBeforeClose
    /// A job thread outlived the stop timeout: end the process at once (`_exit(1)`, no exit handler).
    case exitAtOnce
    /// A line for the worker's log, at `level`.
    case log(String, level: Logger.Level = .info)
}
