// Verdict: a variant's judgement against the baseline — the significance rule beside the research pipeline's own rule.

/// What the report concludes about a variant.
public enum Verdict: String, Sendable, Codable, Equatable {
    case better
    case worse
    /// Within ±threshold by two one-sided tests: a documented negative result.
    case equivalent
    /// Neither a difference nor equivalence is shown; more seeds may decide.
    case undecided
    /// No paired seed with the baseline.
    case untested = "not tested"

    /// The significance rule on the seed-and-row interval (`SeedRowInterval`):
    /// - `better`: p-Holm ≤ α, the (1 − α) interval's lower bound > 0 and Δ̂ > threshold;
    /// - `worse`: p-Holm ≤ α, the upper bound < 0 and Δ̂ < −threshold;
    /// - `equivalent`: the (1 − 2α) interval lies inside (−threshold, +threshold) (two one-sided tests at α);
    /// - `undecided`: none of these, or no interval (fewer than 2 paired seeds: the seed variance is unknown).
    /// Without predictions the interval has no row component (seeds only) and is judged by the same rule.
    public static func judge(interval: SeedRowInterval?, pHolm: Double?, thresholdPP: Double, alpha: Double) -> Verdict
    {
        guard let interval, let pHolm else { return .undecided }
        let rejects = pHolm <= alpha
        if rejects, interval.lowPP > 0, interval.deltaPP > thresholdPP { return .better }
        if rejects, interval.highPP < 0, interval.deltaPP < -thresholdPP { return .worse }
        if interval.equivalenceLowPP > -thresholdPP, interval.equivalenceHighPP < thresholdPP { return .equivalent }
        return .undecided
    }
}

/// The research pipeline's rule: only the point estimate against the threshold (no test, no interval).
public enum SeedRule: String, Sendable, Codable, Equatable {
    case better
    case worse
    case withinThreshold = "within threshold"

    /// `better` when Δ > threshold, `worse` when Δ < −threshold, else `within threshold`.
    public static func judge(deltaPP: Double, thresholdPP: Double) -> SeedRule {
        if deltaPP > thresholdPP { return .better }
        if deltaPP < -thresholdPP { return .worse }
        return .withinThreshold
    }

    /// Whether this rule and the significance verdict say different things (e.g. `better` vs `undecided`).
    public func disagrees(with verdict: Verdict) -> Bool {
        switch (self, verdict) {
        case (.better, .better), (.worse, .worse), (.withinThreshold, .equivalent), (_, .untested): false
        default: true
        }
    }
}
