// MetricsLine: one epoch line of a run's `metrics.jsonl`, as the worker reads it and the coordinator merges it.

/// One epoch line of `metrics.jsonl`.
public struct MetricsLine: Sendable, Equatable {
    /// 1-based line number (blank lines are counted, never reported).
    public var line: Int
    public var epoch: Int
    public var valMacroF1: Double
    /// NaN when the line has no such key.
    public var valLoss: Double
    public var trainLoss: Double
    public var seconds: Double
    /// The line as written, without surrounding whitespace.
    public var record: String

    public init(
        line: Int, epoch: Int, valMacroF1: Double, valLoss: Double, trainLoss: Double, seconds: Double, record: String
    ) {
        self.line = line
        self.epoch = epoch
        self.valMacroF1 = valMacroF1
        self.valLoss = valLoss
        self.trainLoss = trainLoss
        self.seconds = seconds
        self.record = record
    }
}
