// SequentialDesign: the level each look of an adaptive-seed sweep is judged at, so that looking after every seed keeps α.

/// An adaptive sweep (`seeds: {initial: [...], max: M}`) judges a variant after every paired seed from the initial
/// count n₀ up to M, and stops collecting seeds once the verdict is decided. Judging K = M − n₀ + 1 times at level α
/// each would raise the false-verdict rate well above α (Armitage, McPherson & Rowe, "Repeated Significance Tests
/// on Accumulating Data", *J. R. Statist. Soc. A* 132, 1969). Ablate spends α over the looks instead:
///
/// - the final look (n = M) is judged at α/2;
/// - each of the K − 1 interim looks (n₀ ≤ n < M) at α / (2 (K − 1));
/// - a single look (n₀ = M) at α.
///
/// The levels sum to α, so by the union (Bonferroni) bound the probability that any look gives a false `better` or
/// `worse` — or, for a variant whose true effect lies outside ±threshold, a false `equivalent` — is at most α
/// whatever the correlation between looks, the seed distribution's shape aside (each look's Student-t test must hold
/// its own level). Group-sequential boundaries that use the correlation (Pocock 1977; O'Brien & Fleming 1979; the
/// Lan–DeMets spending functions, *Biometrika* 70, 1983) are sharper but assume normal statistics with known
/// variance, which 2–10 seeds do not give. Holm's correction across variants is applied at each look's level: a
/// false rejection of a true null at a look needs its p ≤ level / m₀, so the bound holds per variant and look.
/// The spending favours the final look, where the most seeds are: interim looks stop early only on clear effects.
public struct SequentialDesign: Sendable, Equatable, Codable {
    /// n₀: the paired seeds of the first look (the sweep's initial seeds).
    public var initialSeeds: Int
    /// M: the most seeds a variant may collect.
    public var maximumSeeds: Int
    /// The sweep's α.
    public var alpha: Double

    public init(initialSeeds: Int, maximumSeeds: Int, alpha: Double) {
        self.initialSeeds = initialSeeds
        self.maximumSeeds = max(initialSeeds, maximumSeeds)
        self.alpha = alpha
    }

    /// K, the number of looks.
    public var looks: Int { maximumSeeds - initialSeeds + 1 }

    /// The level of the look at `seeds` paired seeds: α/2 at M, α / (2 (K − 1)) before it (also below n₀, when
    /// initial cells failed), α when there is one look. Above M (more seeds than the design allows) the final
    /// level.
    public func level(atSeeds seeds: Int) -> Double {
        if looks == 1 { return alpha }
        if seeds >= maximumSeeds { return alpha / 2 }
        return alpha / Double(2 * (looks - 1))
    }

    /// The levels of every look from n₀ to M, in order (they sum to α).
    public var levels: [Double] { (initialSeeds...maximumSeeds).map(level(atSeeds:)) }
}
