// ReportBuilder: from loaded cells to a SweepReport — spreads per variant, paired tests, Holm, verdicts, provenance.
import CoordinatorKit
import Foundation
import NN
import Synchronization

/// Computes a report from `ReportInputs`.
public enum ReportBuilder {
    /// Loads `stateDirectory` and builds its report. `parallel: false` keeps the work on the calling thread (the
    /// report refresh, whose SCHED_IDLE class a thread of Dispatch's pool would not have). With `cache`, paired
    /// tests an earlier build computed are taken from it (the same results).
    public static func build(
        stateDirectory: String, now: Double = Date().timeIntervalSince1970, parallel: Bool = true,
        cache: PairedTestCache? = nil
    ) throws -> SweepReport {
        try build(try ReportLoader.load(stateDirectory: stateDirectory), now: now, parallel: parallel, cache: cache)
    }

    /// Builds the report: per-variant spreads over seeds, then for every variant but the baseline Δ over the seeds
    /// both finished (a replica's cells count for the sweep seeds their seeds derive from), the row-level paired
    /// bootstrap (interval and SD) and approximate-randomization p-value over the validation rows (all comparisons in
    /// one pass over the same resampled rows), the seed-and-row interval and p-value (`SeedRowInterval`: the
    /// per-seed differences' spread plus the bootstrap's variance; the spread alone when a side has no usable
    /// predictions, e.g. command cells without `predictions.h5`), Holm across the variants, the verdicts, the seeds
    /// that would decide, the probability of improvement and the power hint; plus provenance warnings
    /// and a calibration warning for each replica of the baseline judged `better` or `worse`. The two paired tests
    /// run on two threads when `parallel`, else one after the other on the calling thread (same results).
    public static func build(
        _ inputs: ReportInputs, now: Double = Date().timeIntervalSince1970, parallel: Bool = true,
        cache: PairedTestCache? = nil
    ) throws -> SweepReport {
        var warnings = inputs.warnings
        let settings = inputs.significance
        let byVariant = Dictionary(grouping: inputs.cells, by: \.report.variant)
        let baseCells = byVariant[inputs.baseline] ?? []
        if baseCells.isEmpty {
            warnings.append("the baseline \(inputs.baseline) has no finished cell yet; no comparison")
        }
        let reference = baseCells.lazy.compactMap(\.predictions).first
        warnings += predictionChecks(inputs.cells, reference: reference)

        // Paired comparisons with usable predictions, all over the reference rows.
        var patterns: [RowPatterns] = []
        var tested: [String] = []
        var paired: [String: [CellPair]] = [:]
        for variant in inputs.variants where variant != inputs.baseline {
            let pairs = inputs.pairs(byVariant[variant] ?? [], baseCells)
            paired[variant] = pairs
            guard !pairs.isEmpty, let reference else { continue }
            let left = pairs.compactMap(\.mine.predictions)
            let right = pairs.compactMap(\.theirs.predictions)
            let usable = (left + right).allSatisfy { $0.labels == reference.labels && $0.classes == reference.classes }
            guard left.count == pairs.count, right.count == pairs.count, usable else {
                warnings.append(
                    "\(variant): predictions missing or on other validation rows; no paired row test (seeds only)")
                continue
            }
            do {
                patterns.append(
                    try RowPatterns(
                        labels: reference.labels, variant: left.map(\.predicted), baseline: right.map(\.predicted),
                        classes: reference.classes))
                tested.append(variant)
            } catch {
                warnings.append("\(variant): no paired test: \(error)")
            }
        }
        var intervals: [DeltaInterval] = []
        var pValues: [Double] = []
        do {
            (intervals, pValues) = try pairedTests(patterns, settings: settings, parallel: parallel, cache: cache)
        } catch {
            warnings.append("no paired tests: \(error)")
            tested = []
            intervals = []
            pValues = []
        }

        // Per variant: the per-seed differences and the seed-and-row interval (needs the row bootstrap's SD).
        struct Judged {
            var mine: [CellReport]
            var theirs: [CellReport]
            var interval: SeedRowInterval?
            var level: Double
            var rowsTested: Bool
        }
        var judged: [String: Judged] = [:]
        for variant in inputs.variants where variant != inputs.baseline {
            guard let pairs = paired[variant], !pairs.isEmpty else { continue }
            let mine = pairs.map(\.mine.report)
            let theirs = pairs.map(\.theirs.report)
            let perSeed = zip(mine, theirs).map { 100 * ($0.best.macroF1 - $1.best.macroF1) }
            let row = tested.firstIndex(of: variant).map { intervals[$0] }
            let level = inputs.design?.level(atSeeds: perSeed.count) ?? settings.alpha
            // Without paired predictions the interval is the seed component alone (no row component).
            let interval = SeedRowInterval(perSeedDeltaPP: perSeed, rowSDPP: row?.sdPP ?? 0, alpha: level)
            judged[variant] = Judged(
                mine: mine, theirs: theirs, interval: interval, level: level, rowsTested: row != nil)
        }
        let family = inputs.variants.filter { judged[$0]?.interval != nil }
        let holm = Dictionary(
            uniqueKeysWithValues: zip(family, HolmBonferroni.adjust(family.map { judged[$0]?.interval?.pValue })))

        var variants: [VariantReport] = []
        let baseF1 = Spread(baseCells.map { 100 * $0.report.best.macroF1 })
        for variant in inputs.variants {
            let cells = (byVariant[variant] ?? []).map(\.report)
            var report = variantReport(
                variant, cells: cells, isBaseline: variant == inputs.baseline, failed: inputs.failed[variant] ?? 0,
                classes: inputs.classNames.count)
            report.replicaOf = inputs.replicaOf[variant]
            if variant != inputs.baseline, let seeds = paired[variant]?.map(\.seed), let entry = judged[variant] {
                let index = tested.firstIndex(of: variant)
                let mine = entry.mine
                let theirs = entry.theirs
                let delta = 100 * (mean(mine.map(\.best.macroF1)) - mean(theirs.map(\.best.macroF1)))
                let perClass = (0..<inputs.classNames.count).map { c in
                    100 * (mean(mine.map { $0.best.f1[safe: c] }) - mean(theirs.map { $0.best.f1[safe: c] }))
                }
                let pHolm: Double? = holm[variant] ?? nil
                let verdict = Verdict.judge(
                    interval: entry.interval, pHolm: pHolm, thresholdPP: settings.thresholdPP, alpha: entry.level)
                let seedsToDecide: Int? =
                    verdict == .undecided
                    ? entry.interval?.seedsToDecide(thresholdPP: settings.thresholdPP, alpha: entry.level) : nil
                let hint = PowerHint.seedsNeeded(
                    variantSD: report.macroF1?.sd, baselineSD: baseF1?.sd, thresholdPP: settings.thresholdPP,
                    alpha: settings.alpha)
                let variantF1: [Double] = mine.map { 100 * $0.best.macroF1 }
                let baselineF1: [Double] = theirs.map { 100 * $0.best.macroF1 }
                let improvement = ProbabilityOfImprovement.estimate(variant: variantF1, baseline: baselineF1)
                let rowInterval: DeltaInterval? = index.map { intervals[$0] }
                let rowPValue: Double? = index.map { pValues[$0] }
                report.comparison = Comparison(
                    pairedSeeds: seeds, deltaPP: delta, perClassDeltaPP: perClass, interval: entry.interval,
                    pValue: entry.interval?.pValue,
                    pHolm: pHolm, level: entry.level, rowsTested: entry.rowsTested, rowInterval: rowInterval,
                    rowPValue: rowPValue, verdict: verdict,
                    seedRule: SeedRule.judge(deltaPP: delta, thresholdPP: settings.thresholdPP),
                    seedsToDecide: seedsToDecide,
                    seedsNeeded: hint, probabilityOfImprovement: improvement)
                if let warning = calibrationWarning(report, baseline: inputs.baseline) { warnings.append(warning) }
            }
            if let source = report.replicaOf, source != inputs.baseline {
                let (verdict, note) = replicaCheck(
                    variant, source: source, inputs: inputs, cells: byVariant, reference: reference)
                report.replicaVerdict = verdict
                if let note { warnings.append(note) }
            }
            variants.append(report)
        }
        let records = inputs.cells.map {
            ProvenanceRecord(
                variant: $0.report.variant, seed: $0.report.seed, configJSON: $0.configJSON,
                provenance: $0.report.provenance)
        }
        warnings += Provenance.warnings(
            records: records, baseline: inputs.baseline, variants: inputs.variants, declared: inputs.declared)
        let order = Dictionary(uniqueKeysWithValues: inputs.variants.enumerated().map { ($1, $0) })
        let cells = inputs.cells.map(\.report).sorted {
            (order[$0.variant] ?? 0, $0.seed) < (order[$1.variant] ?? 0, $1.seed)
        }
        return SweepReport(
            sweep: inputs.sweepName, baseline: inputs.baseline, classNames: inputs.classNames,
            significance: SignificanceSummary(
                thresholdPP: settings.thresholdPP, alpha: settings.alpha, resamples: settings.resamples,
                seed: settings.seed,
                design: inputs.design),
            cells: cells, variants: variants, warnings: warnings, generatedAt: now)
    }

    /// `pairedTests` of the comparisons `cache` does not hold; the rest from it.
    private static func pairedTests(
        _ patterns: [RowPatterns], settings: SignificanceSettings, parallel: Bool, cache: PairedTestCache?
    ) throws
        -> ([DeltaInterval], [Double])
    {
        guard let cache else { return try pairedTests(patterns, settings: settings, parallel: parallel) }
        let keys = patterns.map { PairedTestCache.Key($0, settings) }
        var entries = keys.map(cache.entry)
        let missing = entries.indices.filter { entries[$0] == nil }
        let (intervals, pValues) = try pairedTests(missing.map { patterns[$0] }, settings: settings, parallel: parallel)
        for (position, index) in missing.enumerated() {
            let entry = PairedTestCache.Entry(interval: intervals[position], pValue: pValues[position])
            cache.store(entry, for: keys[index])
            entries[index] = entry
        }
        let held = entries.compactMap { $0 }
        return (held.map(\.interval), held.map(\.pValue))
    }

    /// The bootstrap intervals and the approximate-randomization p-values, computed at the same time on two
    /// threads when `parallel`: each has its own random stream, so the results are those of running them one after
    /// the other.
    private static func pairedTests(_ patterns: [RowPatterns], settings: SignificanceSettings, parallel: Bool) throws
        -> ([DeltaInterval], [Double])
    {
        let intervals = Mutex<Result<[DeltaInterval], any Error>?>(nil)
        let pValues = Mutex<Result<[Double], any Error>?>(nil)
        let run: @Sendable (Int) -> Void = { part in
            if part == 0 {
                let result = Result {
                    try PairedBootstrap.intervals(
                        patterns, resamples: settings.resamples, seed: settings.seed, alpha: settings.alpha)
                }
                intervals.withLock { $0 = result }
            } else {
                let result = Result {
                    try ApproximateRandomization.pValues(patterns, rounds: settings.resamples, seed: settings.seed &+ 1)
                }
                pValues.withLock { $0 = result }
            }
        }
        if parallel {
            DispatchQueue.concurrentPerform(iterations: 2, execute: run)
        } else {
            run(0)
            run(1)
        }
        guard let bootstrap = intervals.withLock({ $0 }), let randomization = pValues.withLock({ $0 }) else {
            throw ReportError("paired tests: a computation did not run")
        }
        return (try bootstrap.get(), try randomization.get())
    }

    private static func variantReport(_ name: String, cells: [CellReport], isBaseline: Bool, failed: Int, classes: Int)
        -> VariantReport
    {
        let hours = cells.reduce(0) { $0 + $1.workerHours }
        return VariantReport(
            name: name, isBaseline: isBaseline, seeds: cells.map(\.seed).sorted(), failedSeeds: failed,
            macroF1: Spread(cells.map { 100 * $0.best.macroF1 }),
            macroPrecision: Spread(cells.map { 100 * $0.best.macroPrecision }),
            macroRecall: Spread(cells.map { 100 * $0.best.macroRecall }),
            accuracy: Spread(cells.map { 100 * $0.best.accuracy }),
            ece: Spread(cells.map(\.best.ece)),
            perClassF1: (0..<classes).compactMap { c in Spread(cells.map { 100 * $0.best.f1[safe: c] }) },
            bestEpoch: Spread(cells.map { Double($0.bestEpoch) }),
            epochsRun: Spread(cells.map { Double($0.epochsRun) }),
            trainableShare: cells.lazy.compactMap(\.trainableShare).first, workerHours: hours, comparison: nil)
    }

    /// The warning for a replica of the baseline judged `better` or `worse` than it: with the same settings, a
    /// difference that passes the rule is noise, so the rule's threshold lies below the noise floor.
    static func calibrationWarning(_ report: VariantReport, baseline: String) -> String? {
        guard let source = report.replicaOf, source == baseline, let verdict = report.comparison?.verdict,
            verdict == .better || verdict == .worse
        else { return nil }
        return
            "calibration: replica \(report.name) of \(source) came out \(verdict.rawValue) — the noise floor exceeds the threshold"
    }

    /// A replica of a variant other than the baseline against its own source, paired by sweep seed: the seed-and-row
    /// interval at α (no Holm: one check per replica, not a claim about a variant) and the verdict rule; `better` or
    /// `worse` is the same calibration warning as for a replica of the baseline. Nil verdict (and maybe a note) when
    /// fewer than 2 seeds pair or predictions are missing.
    static func replicaCheck(
        _ replica: String, source: String, inputs: ReportInputs, cells: [String: [LoadedCell]],
        reference: CellPredictions?
    )
        -> (Verdict?, String?)
    {
        let pairs = inputs.pairs(cells[replica] ?? [], cells[source] ?? [])
        guard pairs.count >= 2, let reference else { return (nil, nil) }
        let left = pairs.compactMap(\.mine.predictions)
        let right = pairs.compactMap(\.theirs.predictions)
        guard left.count == pairs.count, right.count == pairs.count,
            (left + right).allSatisfy({ $0.labels == reference.labels && $0.classes == reference.classes })
        else {
            return (
                nil,
                "\(replica): predictions missing or on other validation rows; not checked against its source \(source)"
            )
        }
        let settings = inputs.significance
        do {
            let patterns = try RowPatterns(
                labels: reference.labels, variant: left.map(\.predicted), baseline: right.map(\.predicted),
                classes: reference.classes)
            let rowSD =
                try PairedBootstrap.intervals(
                    [patterns], resamples: settings.resamples, seed: settings.seed, alpha: settings.alpha
                ).first?.sdPP ?? .nan
            let deltas = pairs.map { 100 * ($0.mine.report.best.macroF1 - $0.theirs.report.best.macroF1) }
            let interval = SeedRowInterval(perSeedDeltaPP: deltas, rowSDPP: rowSD, alpha: settings.alpha)
            let verdict = Verdict.judge(
                interval: interval, pHolm: interval?.pValue, thresholdPP: settings.thresholdPP, alpha: settings.alpha)
            guard verdict == .better || verdict == .worse else { return (verdict, nil) }
            return (
                verdict,
                "calibration: replica \(replica) of \(source) came out \(verdict.rawValue) than \(source) — the noise floor exceeds the threshold"
            )
        } catch {
            return (nil, "\(replica): not checked against its source \(source): \(error)")
        }
    }

    /// How two cells' validation labels differ: in number, or at the first row where they disagree.
    static func labelMismatch(_ labels: [Int], _ reference: [Int]) -> String {
        guard labels.count == reference.count else {
            return "it covers \(labels.count) validation rows, the baseline's \(reference.count)"
        }
        let row = labels.indices.first { labels[$0] != reference[$0] } ?? 0
        return "row \(row) is labelled \(labels[row]) here and \(reference[row]) in the baseline's"
            + " (a predictions.h5 or the dataset was changed between the runs)"
    }

    /// Checks each cell's predictions against the reference rows and against its own best-epoch macro-F1.
    private static func predictionChecks(_ cells: [LoadedCell], reference: CellPredictions?) -> [String] {
        var warnings: [String] = []
        for cell in cells {
            guard let predictions = cell.predictions else { continue }
            let name = "\(cell.report.variant) seed \(cell.report.seed)"
            if let reference, predictions.labels != reference.labels {
                warnings.append(
                    "\(name): predictions.h5 does not match the baseline's validation labels: \(labelMismatch(predictions.labels, reference.labels))"
                )
                continue
            }
            var confusion = [[Int]](
                repeating: [Int](repeating: 0, count: predictions.classes), count: predictions.classes)
            for (label, predicted) in zip(predictions.labels, predictions.predicted)
            where label >= 0 && label < predictions.classes {
                confusion[label][predicted] += 1
            }
            let f1 = ClassificationMetrics(confusion: confusion, loss: 0).macroF1
            if abs(f1 - cell.report.best.macroF1) > 1e-6 {
                warnings.append(
                    "\(name): predictions.h5 gives macro-F1 "
                        + String(
                            format: "%.4f%% but the best epoch records %.4f%%", 100 * f1,
                            100 * cell.report.best.macroF1))
            }
        }
        return warnings
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
}

extension Array where Element == Double {
    /// The element at `index`, NaN when out of range.
    subscript(safe index: Int) -> Double { indices.contains(index) ? self[index] : .nan }
}
