// WorkerEvent: what a training or command thread tells the network loop.
import Logging
import WireProtocol

/// What a training thread tells the network loop.
public enum WorkerEvent: Sendable {
    case epoch(cell: String, attempt: Int, report: MetricsReport, files: [OutgoingFile])
    case finished(cell: String, attempt: Int, summary: String)
    case failed(cell: String, attempt: Int, reason: String, deterministic: Bool)
    case cancelled(cell: String, attempt: Int)
    /// A line for the worker's log, at `level`.
    case log(String, level: Logger.Level = .info)
    /// Files a command completed between epochs (streamed like an epoch's files).
    case files(cell: String, attempt: Int, files: [OutgoingFile])
    /// Output lines of a command, for the coordinator's copy of its log (best effort).
    case output(cell: String, attempt: Int, lines: [String])
    /// How far a native run is inside its epoch or cache build (sent with the next heartbeat).
    case progress(cell: String, attempt: Int, TrainingProgress)
}
