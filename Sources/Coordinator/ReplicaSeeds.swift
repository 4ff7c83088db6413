// ReplicaSeeds: the training seeds of a replica (A/A) variant's cells, derived from the sweep's seeds.
import AblateSupport

/// A replica variant trains its cell for sweep seed `s` with its own seed, so that its cells differ from its
/// source's: the first `k = 0, 1, 2, …` for which
///
///     seed(name, s, k) = (first 4 bytes of SHA-256("ablate-replica/<name>/<s>/<k>"), big-endian) & 0x7FFF_FFFF
///
/// is neither a seed of the sweep's seed sequence nor a seed already given to a replica cell (replicas in file order,
/// each over the sequence in order). The sequence (`Sweep.seedSequence`) is the `seeds` list, or for an adaptive sweep
/// all `max` seeds whether or not they are ever used, so a replica's seeds do not depend on how many seeds an adaptive
/// sweep collects. The seeds lie in [0, 2^31), so any trainer accepts them.
public enum ReplicaSeeds {
    /// For every replica variant of `sweep`, its training seed per sweep seed (every seed of the sequence).
    public static func seeds(of sweep: Sweep) -> [String: [UInt64: UInt64]] {
        let sequence = sweep.seedSequence
        var taken = Set(sequence)
        var out: [String: [UInt64: UInt64]] = [:]
        for variant in sweep.variants where variant.replicaOf != nil {
            var mine: [UInt64: UInt64] = [:]
            for seed in sequence {
                var attempt: UInt64 = 0
                var candidate = derived(replica: variant.name, sweepSeed: seed, attempt: attempt)
                while taken.contains(candidate) {
                    attempt += 1
                    candidate = derived(replica: variant.name, sweepSeed: seed, attempt: attempt)
                }
                taken.insert(candidate)
                mine[seed] = candidate
            }
            out[variant.name] = mine
        }
        return out
    }

    /// `seed(name, s, k)` of the formula above.
    public static func derived(replica name: String, sweepSeed: UInt64, attempt: UInt64) -> UInt64 {
        let hex = SHA256Hex.of(Array("ablate-replica/\(name)/\(sweepSeed)/\(attempt)".utf8))
        return (UInt64(hex.prefix(8), radix: 16) ?? 0) & 0x7FFF_FFFF
    }
}
