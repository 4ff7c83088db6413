// JobSpec: everything a training thread needs for one attempt.
import RunSpec
import WireProtocol

/// Everything a training thread needs for one attempt.
public struct JobSpec: Sendable {
    public var assign: Assign
    public var config: TrainingConfig
    public var datasetPath: String
    public var stage1Path: String?
    public var resumePath: String?
    public var runDirectory: String
    /// Where epoch files are hard-linked under their SHA-256 (stable snapshots for streaming).
    public var outboxDirectory: String
    public var cacheDirectory: String?
    public var codeVersion: String
    /// Least seconds between two epochs whose files are streamed (`CheckpointCadence`; 0: every epoch).
    public var checkpointInterval: Double = 0
}
