// HolmBonferroni: Holm's step-down correction of a family of p-values.

/// Holm's step-down procedure (Holm, "A Simple Sequentially Rejective Multiple Test Procedure", Scandinavian
/// Journal of Statistics 6, 1979): with the m p-values sorted ascending, p₍ᵢ₎ becomes
/// `max over j ≤ i of min(1, (m − j + 1) · p₍ⱼ₎)`. Rejecting where the adjusted value is ≤ α controls the
/// family-wise error rate at α. Ties keep their input order.
public enum HolmBonferroni {
    /// Adjusted p-values in the input order; nil entries (no test) are left out of the family and stay nil.
    public static func adjust(_ pValues: [Double?]) -> [Double?] {
        let present = pValues.enumerated().compactMap { index, p in p.map { (index, $0) } }
        let m = present.count
        let order = present.sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        var adjusted = [Double?](repeating: nil, count: pValues.count)
        var running = 0.0
        for (rank, entry) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * entry.1))
            adjusted[entry.0] = running
        }
        return adjusted
    }
}
