// SweepSeedSequence: the seeds a sweep may use — its list, or an adaptive sweep's initial seeds followed by later ones.

extension Sweep {
    /// The largest `max` of `seeds: {initial: [...], max: M}`.
    public static let maximumAdaptiveSeeds = 100

    /// Whether the sweep collects seeds adaptively (`seeds: {initial, max}`).
    public var isAdaptive: Bool { maxSeeds != nil }

    /// Every seed a variant may be trained with, in the order they are used: the list form's seeds; for the
    /// adaptive form the initial seeds in file order, then max(initial) + 1, max(initial) + 2, … up to `max` seeds
    /// in total. Seeds past 2⁶⁴ − 1 are not produced (the parser refuses such a sweep).
    public var seedSequence: [UInt64] {
        Self.seedSequence(initial: seeds, maximum: maxSeeds)
    }

    /// The sequence of `initial` extended to `maximum` seeds (`seedSequence`); just `initial` when `maximum` is nil
    /// or not above its count.
    public static func seedSequence(initial: [UInt64], maximum: Int?) -> [UInt64] {
        guard let maximum, maximum > initial.count, let top = initial.max() else { return initial }
        var sequence = initial
        var next = top
        while sequence.count < maximum {
            let (value, overflow) = next.addingReportingOverflow(1)
            if overflow { break }
            next = value
            sequence.append(next)
        }
        return sequence
    }
}
