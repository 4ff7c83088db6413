// MetricDirection: judging a comparison by the metric's goal — the interval of the improvement, and unit scaling.
import CoordinatorKit

extension SeedRowInterval {
    /// The interval of −Δ: the same SE, df and p, the bounds negated and exchanged.
    public var negated: SeedRowInterval {
        var copy = self
        copy.deltaPP = -deltaPP
        copy.perSeedDeltaPP = perSeedDeltaPP.map { -$0 }
        copy.lowPP = -highPP
        copy.highPP = -lowPP
        copy.equivalenceLowPP = -equivalenceHighPP
        copy.equivalenceHighPP = -equivalenceLowPP
        return copy
    }
}

extension DeltaInterval {
    /// The interval with every bound and the SD multiplied by `factor` (> 0).
    func scaled(by factor: Double) -> DeltaInterval {
        guard factor != 1 else { return self }
        return DeltaInterval(
            lowPP: lowPP * factor, highPP: highPP * factor, perClassLowPP: perClassLowPP.map { $0 * factor },
            perClassHighPP: perClassHighPP.map { $0 * factor }, sdPP: sdPP * factor)
    }
}

extension SweepMetric {
    /// The interval of the improvement (Δ for `max`, −Δ for `min`): the verdict rule reads "better" as a positive
    /// improvement, so a lower value of a `min` metric is judged better. The interval itself is symmetric, so this
    /// changes no SE, df or p.
    public func improvement(_ interval: SeedRowInterval?) -> SeedRowInterval? {
        goal == .max ? interval : interval?.negated
    }

    /// The verdict (`Verdict.judge`) on the improvement.
    public func judge(interval: SeedRowInterval?, pHolm: Double?, threshold: Double, alpha: Double) -> Verdict {
        Verdict.judge(interval: improvement(interval), pHolm: pHolm, thresholdPP: threshold, alpha: alpha)
    }

    /// The research pipeline's rule on the improvement.
    public func seedRule(delta: Double, threshold: Double) -> SeedRule {
        SeedRule.judge(deltaPP: direction * delta, thresholdPP: threshold)
    }

    /// Whether the report's row-level tests can recompute this metric from predicted classes.
    public var rowStatistic: RowStatistic? { RowStatistic(metric: name) }
}
