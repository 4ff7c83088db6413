// AdaptiveSeeds: which later seeds an adaptive sweep adds, decided from the report's verdicts and the cells' progress.

/// A variant's verdict against the baseline as the report gave it (the raw values are the report's: `not tested`).
public enum AdaptiveVerdict: String, Sendable, Equatable, CaseIterable {
    case better, worse, equivalent, undecided
    case untested = "not tested"
}

/// What the report said about one variant, and over how many paired seeds (seeds both it and the baseline finished).
public struct AdaptiveJudgement: Sendable, Equatable {
    public var verdict: AdaptiveVerdict
    public var pairedSeeds: Int

    public init(verdict: AdaptiveVerdict, pairedSeeds: Int) {
        self.verdict = verdict
        self.pairedSeeds = pairedSeeds
    }
}

/// The decision of an adaptive sweep (`seeds: {initial: [...], max: M}`, docs/sweep-format.md) as a pure function:
/// the planned cells' progress and the latest verdicts in, the cells to add and one reason per variant out.
///
/// For each variant other than the baseline, in file order:
/// 1. while one of its planned cells, or a baseline cell of one of its seeds, is pending or running: nothing (one
///    seed at a time: the judge must see the last seed first);
/// 2. with no paired seed (its cells or the baseline's failed): nothing more — no comparison can be made;
/// 3. without a verdict over exactly its current paired seeds (the report has not seen them yet): wait for one —
///    unless the latest report was built over the current finished cells (`reportIsCurrent`: its verdict is taken
///    as it is, and without one, or when that build failed, nothing more);
/// 4. `better`, `worse`, `equivalent` or `not tested`: nothing more;
/// 5. `undecided` with fewer than `max` seeds planned: the next seed of the sequence that it lacks, for it and for
///    the baseline when the baseline lacks it (once, however many variants ask); at `max`: nothing more.
///
/// The sweep is settled when nothing is added and no variant waits (steps 1 and 3); only then may it finish.
public struct AdaptiveSeeds: Sendable, Equatable {
    /// A cell of the sweep by variant and sweep seed (for a replica's cell, the sweep seed its seed derives from).
    public struct SeedCell: Sendable, Hashable, CustomStringConvertible {
        public var variant: String
        public var sweepSeed: UInt64

        public init(variant: String, sweepSeed: UInt64) {
            self.variant = variant
            self.sweepSeed = sweepSeed
        }

        public var description: String { "\(variant)/\(sweepSeed)" }
    }

    /// Where a planned cell stands.
    public enum Progress: Sendable, Equatable {
        /// Pending or running.
        case inFlight
        case done
        case failed
    }

    /// The decision: cells to add (in order), a reason per variant (in file order) and whether the sweep is settled.
    public struct Decision: Sendable, Equatable {
        public var additions: [SeedCell]
        public var reasons: [(variant: String, reason: String)]
        /// Nothing to add and no variant waits for cells or a verdict: the sweep may finish once its cells have.
        public var settled: Bool

        public static func == (lhs: Decision, rhs: Decision) -> Bool {
            lhs.additions == rhs.additions && lhs.settled == rhs.settled
                && lhs.reasons.map(\.variant) == rhs.reasons.map(\.variant)
                && lhs.reasons.map(\.reason) == rhs.reasons.map(\.reason)
        }

        /// The reason given for `variant`.
        public func reason(_ variant: String) -> String? {
            reasons.first { $0.variant == variant }?.reason
        }
    }

    public var baseline: String
    /// Every variant in file order (the baseline among them is skipped).
    public var variants: [String]
    /// The seed sequence (`Sweep.seedSequence`): every seed a variant may get, in the order it gets them.
    public var sequence: [UInt64]
    /// How many of `sequence` are the initial seeds.
    public var initialCount: Int

    public init(baseline: String, variants: [String], sequence: [UInt64], initialCount: Int) {
        self.baseline = baseline
        self.variants = variants
        self.sequence = sequence
        self.initialCount = initialCount
    }

    /// The design of an adaptive sweep; nil for a list of seeds.
    public init?(sweep: Sweep) {
        guard sweep.isAdaptive else { return nil }
        self.init(
            baseline: sweep.baseline, variants: sweep.variants.map(\.name), sequence: sweep.seedSequence,
            initialCount: sweep.seeds.count)
    }

    /// The progress of `cells` (ledger records of the planned cells) by variant and sweep seed: a replica's cell is
    /// found under the sweep seed its seed derives from (`ReplicaSeeds`); the stage-1 job is left out.
    public static func progress(of cells: [CellRecord], sweep: Sweep) -> [SeedCell: Progress] {
        let replicas = ReplicaSeeds.seeds(of: sweep).mapValues { seeds in
            Dictionary(seeds.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        var out: [SeedCell: Progress] = [:]
        for cell in cells where cell.variant != SweepPlan.stage1VariantName {
            let key = SeedCell(variant: cell.variant, sweepSeed: replicas[cell.variant]?[cell.seed] ?? cell.seed)
            switch cell.state {
            case .pending, .running: out[key] = .inFlight
            case .done: out[key] = .done
            case .failed: out[key] = .failed
            }
        }
        return out
    }

    /// M: the most seeds a variant may collect.
    public var maximum: Int { sequence.count }

    /// Decides from `cells` (the planned cells' progress; a cell not in it is not planned) and `judgements` (the
    /// latest report's, by variant). `reportIsCurrent`: the latest report build started when the finished cells were
    /// the current ones; `reportFailed`: it failed.
    public func decide(
        cells: [SeedCell: Progress], judgements: [String: AdaptiveJudgement], reportIsCurrent: Bool = false,
        reportFailed: Bool = false
    ) -> Decision {
        var additions: [SeedCell] = []
        var reasons: [(variant: String, reason: String)] = []
        var waiting = false
        for variant in variants where variant != baseline {
            let planned = sequence.filter { cells[SeedCell(variant: variant, sweepSeed: $0)] != nil }
            let count = planned.count
            let inFlight = planned.filter { seed in
                cells[SeedCell(variant: variant, sweepSeed: seed)] == .inFlight
                    || cells[SeedCell(variant: baseline, sweepSeed: seed)] == .inFlight
            }.count
            let paired = planned.filter { seed in
                cells[SeedCell(variant: variant, sweepSeed: seed)] == .done
                    && cells[SeedCell(variant: baseline, sweepSeed: seed)] == .done
            }.count
            let pairedNote = paired == count ? "" : " (\(paired) paired)"
            if inFlight > 0 {
                waiting = true
                reasons.append(
                    (
                        variant,
                        count > initialCount
                            ? "undecided, collecting seed \(count) of at most \(maximum)"
                            : "collecting the \(count) initial seeds (at most \(maximum))"
                    ))
                continue
            }
            if paired == 0 {
                reasons.append((variant, "no paired seed to compare (failed cells); no more seeds"))
                continue
            }
            let verdict = judgements[variant].flatMap {
                $0.pairedSeeds == paired || (reportIsCurrent && !reportFailed) ? $0 : nil
            }
            guard let judgement = verdict else {
                if reportIsCurrent {
                    reasons.append((variant, "no verdict: the report could not judge it; no more seeds"))
                } else {
                    waiting = true
                    reasons.append((variant, "waiting for the report's verdict on \(paired) paired seeds"))
                }
                continue
            }
            switch judgement.verdict {
            case .better, .worse, .equivalent:
                reasons.append((variant, "\(judgement.verdict.rawValue) at \(paired) seeds"))
            case .untested:
                reasons.append((variant, "not tested at \(paired) seeds (no comparison); no more seeds"))
            case .undecided:
                guard count < maximum, let next = sequence.first(where: { !planned.contains($0) }) else {
                    reasons.append((variant, "undecided at the maximum of \(maximum) seeds\(pairedNote)"))
                    continue
                }
                let base = SeedCell(variant: baseline, sweepSeed: next)
                if cells[base] == nil, !additions.contains(base) { additions.append(base) }
                additions.append(SeedCell(variant: variant, sweepSeed: next))
                reasons.append(
                    (
                        variant,
                        "undecided at \(paired) seeds, adding seed \(count + 1) of at most \(maximum) (seed \(next))"
                    ))
            }
        }
        return Decision(additions: additions, reasons: reasons, settled: additions.isEmpty && !waiting)
    }
}
