// EarlyStopping: stops training after `patience` epochs without a strictly better validation metric.

/// Early stopping on strict improvement of the validation metric.
public struct EarlyStopping: Sendable, Equatable, Codable {
    public var patience: Int
    public var best: Double = -.infinity
    public var bestEpoch = 0
    public var epochsWithoutImprovement = 0

    public init(patience: Int = 15) {
        self.patience = patience
    }

    /// Records an epoch (1-based); returns whether it is the new best.
    public mutating func record(metric: Double, epoch: Int) -> Bool {
        if metric > best {
            best = metric
            bestEpoch = epoch
            epochsWithoutImprovement = 0
            return true
        }
        epochsWithoutImprovement += 1
        return false
    }

    /// Whether training should stop now.
    public var shouldStop: Bool { epochsWithoutImprovement >= patience }
}
