// ProbabilityOfImprovement: how likely a variant's seed beats a baseline's seed, by the Mann–Whitney statistic.

/// P(X > Y) for a random seed X of the variant and Y of the baseline, estimated by U / (n·m): over all n·m pairs of
/// their per-seed macro-F1, a win counts 1 and a tie ½ (Mann & Whitney, *Annals of Mathematical Statistics* 18,
/// 1947; used as "probability of improvement" by Agarwal et al., "Deep Reinforcement Learning at the Edge of the
/// Statistical Precipice", NeurIPS 2021). ½ means no tendency either way.
public enum ProbabilityOfImprovement {
    /// U / (n·m); nil when either side is empty.
    public static func estimate(variant: [Double], baseline: [Double]) -> Double? {
        guard !variant.isEmpty, !baseline.isEmpty else { return nil }
        var u = 0.0
        for x in variant {
            for y in baseline {
                if x > y { u += 1 } else if x == y { u += 0.5 }
            }
        }
        return u / Double(variant.count * baseline.count)
    }
}
