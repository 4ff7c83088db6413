// Verdict: a variant's judgement against the baseline — the significance rule beside the research pipeline's own rule.

/// What the report concludes about a variant.
public enum Verdict: String, Sendable, Codable, Equatable {
    case better
    case worse
    case noSignificantDifference = "no significant difference"
    /// Not enough data to test (no paired seeds, no predictions).
    case untested = "not tested"

    /// The significance rule: `better` when Δ > threshold, the Holm-corrected p ≤ α and the CI's lower bound is
    /// above 0; `worse` when Δ < −threshold, p-Holm ≤ α and the CI's upper bound is below 0; otherwise
    /// `no significant difference`. Without a p-value or a CI: `not tested`.
    public static func judge(deltaPP: Double, thresholdPP: Double, pHolm: Double?, interval: DeltaInterval?, alpha: Double)
        -> Verdict
    {
        guard let pHolm, let interval else { return .untested }
        let rejects = pHolm <= alpha
        if deltaPP > thresholdPP, rejects, interval.lowPP > 0 { return .better }
        if deltaPP < -thresholdPP, rejects, interval.highPP < 0 { return .worse }
        return .noSignificantDifference
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

    /// Whether this rule and the significance verdict say different things (e.g. `better` vs no difference).
    public func disagrees(with verdict: Verdict) -> Bool {
        switch (self, verdict) {
        case (.better, .better), (.worse, .worse), (.withinThreshold, .noSignificantDifference), (_, .untested): false
        default: true
        }
    }
}
