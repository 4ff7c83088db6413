// ReduceLROnPlateau: PyTorch's plateau scheduler (mode max, relative threshold), driving AdamW's group rates.

/// `torch.optim.lr_scheduler.ReduceLROnPlateau` with `mode='max'`, `threshold_mode='rel'`: an epoch improves when
/// `metric > best · (1 + threshold)`; after more than `patience` epochs without improvement every group's rate
/// is multiplied by `factor` (not below `minimumLearningRate`; changes smaller than 1e-8 are skipped), then `cooldown` epochs
/// follow in which bad epochs are not counted.
public struct ReduceLROnPlateau: Sendable, Equatable, Codable {
    public var factor: Double
    public var patience: Int
    public var threshold: Double
    public var cooldown: Int
    public var minimumLearningRate: Double
    /// Best metric so far (−∞ before the first step).
    public var best: Double = -.infinity
    public var badEpochs = 0
    public var cooldownCounter = 0

    public init(
        factor: Double = 0.5, patience: Int = 5, threshold: Double = 1e-4, cooldown: Int = 0,
        minimumLearningRate: Double = 0
    ) {
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.minimumLearningRate = minimumLearningRate
    }

    /// Feeds one epoch's metric; returns the new learning rates.
    public mutating func step(metric: Double, learningRates: [Double]) -> [Double] {
        if metric > best * (1 + threshold) || best == -.infinity {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            badEpochs = 0
        }
        guard badEpochs > patience else { return learningRates }
        cooldownCounter = cooldown
        badEpochs = 0
        return learningRates.map { old in
            let new = max(old * factor, minimumLearningRate)
            return old - new > 1e-8 ? new : old
        }
    }
}
