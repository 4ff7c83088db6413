// ReportBuilder: from loaded cells to a SweepReport — spreads per variant, paired tests, Holm, verdicts, provenance.
import CoordinatorKit
import Foundation
import NN
import RunSpec
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
        let metric = inputs.metric
        let threshold = metric.threshold ?? settings.thresholdPP
        let scale = metric.scale
        let byVariant = Dictionary(grouping: inputs.cells, by: \.report.variant)
        let baseCells = byVariant[inputs.baseline] ?? []
        if baseCells.isEmpty {
            warnings.append("the baseline \(inputs.baseline) has no finished cell yet; no comparison")
        }
        let reference = baseCells.lazy.compactMap(\.predictions).first(where: \.hasClasses)
        let scoreReference = baseCells.lazy.compactMap(\.predictions?.scores).first
        warnings += predictionChecks(inputs.cells, reference: reference, metric: metric)
        let rowLevel = metric.rowStatistic != nil || inputs.cells.contains { $0.predictions?.scores != nil }
        if !rowLevel {
            warnings.append(
                "row-level tests: not available for \(metric.name) (no per-row form); seed-level statistics only")
        }

        // Paired comparisons with usable predictions, all over the reference rows.
        var paired: [String: [CellPair]] = [:]
        var rows: [String: (interval: DeltaInterval, pValue: Double)] = [:]
        do {
            var patterns: [RowPatterns] = []
            var tested: [String] = []
            var scores: [[Double]] = []
            var scored: [String] = []
            for variant in inputs.variants where variant != inputs.baseline {
                let pairs = inputs.pairs(byVariant[variant] ?? [], baseCells)
                paired[variant] = pairs
                guard !pairs.isEmpty, rowLevel else { continue }
                if let statistic = metric.rowStatistic {
                    guard let reference else { continue }
                    guard let comparison = classRows(pairs, reference, statistic, metric, &warnings, variant) else {
                        continue
                    }
                    patterns.append(comparison)
                    tested.append(variant)
                } else if let differences = scoreRows(pairs, scoreReference, metric, &warnings, variant) {
                    scores.append(differences)
                    scored.append(variant)
                }
            }
            do {
                let (intervals, pValues) = try pairedTests(
                    patterns, settings: settings, parallel: parallel, cache: cache)
                for (index, variant) in tested.enumerated() {
                    rows[variant] = (intervals[index].scaled(by: scale / 100), pValues[index])
                }
            } catch {
                warnings.append("no paired tests: \(error)")
            }
            do {
                let intervals = try MeanRowTests.intervals(
                    scores, resamples: settings.resamples, seed: settings.seed, alpha: settings.alpha, scale: scale)
                let pValues = try MeanRowTests.pValues(scores, rounds: settings.resamples, seed: settings.seed &+ 1)
                for (index, variant) in scored.enumerated() { rows[variant] = (intervals[index], pValues[index]) }
            } catch {
                warnings.append("no paired tests: \(error)")
            }
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
            let perSeed = zip(mine, theirs).map { scale * ($0.metric - $1.metric) }
            let row = rows[variant]?.interval
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
        let baseMetric = Spread(baseCells.map { scale * $0.report.metric })
        for variant in inputs.variants {
            let cells = (byVariant[variant] ?? []).map(\.report)
            var report = variantReport(
                variant, cells: cells, isBaseline: variant == inputs.baseline, failed: inputs.failed[variant] ?? 0,
                classes: inputs.classNames.count)
            report.metric = Spread(cells.map { scale * $0.metric })
            report.replicaOf = inputs.replicaOf[variant]
            if variant != inputs.baseline, let seeds = paired[variant]?.map(\.seed), let entry = judged[variant] {
                let mine = entry.mine
                let theirs = entry.theirs
                let delta = scale * (mean(mine.map(\.metric)) - mean(theirs.map(\.metric)))
                let perClass = (0..<inputs.classNames.count).map { c in
                    100 * (mean(mine.map { $0.best.f1[safe: c] }) - mean(theirs.map { $0.best.f1[safe: c] }))
                }
                let pHolm: Double? = holm[variant] ?? nil
                let verdict = metric.judge(
                    interval: entry.interval, pHolm: pHolm, threshold: threshold, alpha: entry.level)
                let seedsToDecide: Int? =
                    verdict == .undecided
                    ? entry.interval?.seedsToDecide(thresholdPP: threshold, alpha: entry.level) : nil
                let hint = PowerHint.seedsNeeded(
                    variantSD: report.metric?.sd, baselineSD: baseMetric?.sd, thresholdPP: threshold,
                    alpha: settings.alpha)
                // "Beats" by the goal: compared as improvements (the values, negated for a lower-is-better metric).
                let variantValues: [Double] = mine.map { metric.direction * scale * $0.metric }
                let baselineValues: [Double] = theirs.map { metric.direction * scale * $0.metric }
                let improvement = ProbabilityOfImprovement.estimate(variant: variantValues, baseline: baselineValues)
                report.comparison = Comparison(
                    pairedSeeds: seeds, deltaPP: delta, perClassDeltaPP: perClass, interval: entry.interval,
                    pValue: entry.interval?.pValue,
                    pHolm: pHolm, level: entry.level, rowsTested: entry.rowsTested,
                    rowInterval: rows[variant]?.interval,
                    rowPValue: rows[variant]?.pValue, verdict: verdict,
                    seedRule: metric.seedRule(delta: delta, threshold: threshold),
                    seedsToDecide: seedsToDecide,
                    seedsNeeded: hint, probabilityOfImprovement: improvement, unit: metric.unit,
                    noRowForm: rowLevel ? nil : metric.name)
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
                design: inputs.design, metric: resolved(metric, settings), rowLevel: rowLevel),
            cells: cells, variants: variants, warnings: warnings, generatedAt: now)
    }

    /// The metric with its threshold resolved (`significance.threshold_pp` when `metric:` gives none).
    static func resolved(_ metric: SweepMetric, _ settings: SignificanceSettings) -> SweepMetric {
        var metric = metric
        metric.threshold = metric.threshold ?? settings.thresholdPP
        return metric
    }

    /// The row patterns of a comparison by predicted classes, or nil (with a warning) when a paired cell lacks
    /// predictions over the reference rows — or, for a metric other than `val_macro_f1`, predictions of its best
    /// epoch by that metric (the native trainer writes them at the best macro-F1 epoch).
    private static func classRows(
        _ pairs: [CellPair], _ reference: CellPredictions, _ statistic: RowStatistic, _ metric: SweepMetric,
        _ warnings: inout [String], _ variant: String
    ) -> RowPatterns? {
        let cells = pairs.map(\.mine) + pairs.map(\.theirs)
        let left = pairs.compactMap { $0.mine.predictions }.filter(\.hasClasses)
        let right = pairs.compactMap { $0.theirs.predictions }.filter(\.hasClasses)
        let usable = (left + right).allSatisfy { $0.labels == reference.labels && $0.classes == reference.classes }
        guard left.count == pairs.count, right.count == pairs.count, usable else {
            warnings.append(
                "\(variant): predictions missing or on other validation rows; no paired row test (seeds only)")
            return nil
        }
        if !metric.picksSummaryEpoch,
            cells.contains(where: { $0.predictions?.epoch != $0.report.bestEpoch })
        {
            warnings.append(
                "\(variant): predictions.h5 not of the best epoch by \(metric.name) in every paired cell; no paired row test (seeds only)"
            )
            return nil
        }
        do {
            return try RowPatterns(
                labels: reference.labels, variant: left.map(\.predicted), baseline: right.map(\.predicted),
                classes: reference.classes, statistic: statistic)
        } catch {
            warnings.append("\(variant): no paired test: \(error)")
            return nil
        }
    }

    /// The per-row differences of a mean-of-rows comparison (`score` datasets paired by row index), or nil (with
    /// a warning) when a paired cell has no `score` of its best epoch or its row count differs from the baseline's.
    private static func scoreRows(
        _ pairs: [CellPair], _ reference: [Double]?, _ metric: SweepMetric, _ warnings: inout [String],
        _ variant: String
    ) -> [Double]? {
        let cells = pairs.map(\.mine) + pairs.map(\.theirs)
        let scores = cells.compactMap { cell in
            cell.predictions.flatMap { $0.epoch == cell.report.bestEpoch ? $0.scores : nil }
        }
        guard let reference, scores.count == cells.count else {
            warnings.append(
                "\(variant): no score of the best epoch by \(metric.name) in predictions.h5 of every paired cell; seed-level statistics only"
            )
            return nil
        }
        if let other = scores.first(where: { $0.count != reference.count }) {
            warnings.append(
                "\(variant): score has \(other.count) rows in a paired cell and \(reference.count) in the baseline's; seed-level statistics only"
            )
            return nil
        }
        do {
            return try MeanRowTests.differences(
                variant: Array(scores[..<pairs.count]), baseline: Array(scores[pairs.count...]))
        } catch {
            warnings.append("\(variant): no paired test: \(error)")
            return nil
        }
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
        let metric = inputs.metric
        let settings = inputs.significance
        let threshold = metric.threshold ?? settings.thresholdPP
        guard pairs.count >= 2 else { return (nil, nil) }
        do {
            // The row component: by predicted classes, from per-row scores, or none (seed-level only).
            var rowSD = 0.0
            if let statistic = metric.rowStatistic {
                guard let reference else { return (nil, nil) }
                let left = pairs.compactMap(\.mine.predictions).filter(\.hasClasses)
                let right = pairs.compactMap(\.theirs.predictions).filter(\.hasClasses)
                guard left.count == pairs.count, right.count == pairs.count,
                    (left + right).allSatisfy({ $0.labels == reference.labels && $0.classes == reference.classes })
                else {
                    return (
                        nil,
                        "\(replica): predictions missing or on other validation rows; not checked against its source \(source)"
                    )
                }
                let patterns = try RowPatterns(
                    labels: reference.labels, variant: left.map(\.predicted), baseline: right.map(\.predicted),
                    classes: reference.classes, statistic: statistic)
                rowSD =
                    (try PairedBootstrap.intervals(
                        [patterns], resamples: settings.resamples, seed: settings.seed, alpha: settings.alpha
                    ).first?.sdPP ?? .nan) * (metric.scale / 100)
            } else {
                let left = pairs.compactMap { $0.mine.predictions?.scores }
                let right = pairs.compactMap { $0.theirs.predictions?.scores }
                if left.count == pairs.count, right.count == pairs.count,
                    let rows = left.first?.count, (left + right).allSatisfy({ $0.count == rows })
                {
                    let differences = try MeanRowTests.differences(variant: left, baseline: right)
                    rowSD =
                        try MeanRowTests.intervals(
                            [differences], resamples: settings.resamples, seed: settings.seed, alpha: settings.alpha,
                            scale: metric.scale
                        ).first?.sdPP ?? .nan
                }
            }
            let deltas = pairs.map { metric.scale * ($0.mine.report.metric - $0.theirs.report.metric) }
            let interval = SeedRowInterval(perSeedDeltaPP: deltas, rowSDPP: rowSD, alpha: settings.alpha)
            let verdict = metric.judge(
                interval: interval, pHolm: interval?.pValue, threshold: threshold, alpha: settings.alpha)
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

    /// Checks each cell's predictions against the reference rows and against its own best epoch: macro-F1 (the
    /// default metric), accuracy (`val_accuracy`) or the mean of its `score` (a mean-of-rows metric), the last two
    /// only when the file is of the best epoch by the metric.
    private static func predictionChecks(_ cells: [LoadedCell], reference: CellPredictions?, metric: SweepMetric)
        -> [String]
    {
        var warnings: [String] = []
        let byDefault = metric.picksSummaryEpoch
        for cell in cells {
            guard let predictions = cell.predictions else { continue }
            let name = "\(cell.report.variant) seed \(cell.report.seed)"
            let ofBest = predictions.epoch == cell.report.bestEpoch
            if metric.rowStatistic == nil, ofBest, let scores = predictions.scores, !scores.isEmpty {
                let mean = scores.reduce(0, +) / Double(scores.count)
                if abs(mean - cell.report.metric) > 1e-6 * max(1, abs(cell.report.metric)) {
                    warnings.append(
                        "\(name): predictions.h5 score averages \(mean) but the best epoch records \(metric.name) \(cell.report.metric)"
                    )
                }
            }
            guard predictions.hasClasses else { continue }
            if let reference, predictions.labels != reference.labels {
                warnings.append(
                    "\(name): predictions.h5 does not match the baseline's validation labels: \(labelMismatch(predictions.labels, reference.labels))"
                )
                continue
            }
            guard byDefault || (metric.rowStatistic == .accuracy && ofBest) else { continue }
            var confusion = [[Int]](
                repeating: [Int](repeating: 0, count: predictions.classes), count: predictions.classes)
            for (label, predicted) in zip(predictions.labels, predictions.predicted)
            where label >= 0 && label < predictions.classes {
                confusion[label][predicted] += 1
            }
            let computed = ClassificationMetrics(confusion: confusion, loss: 0)
            if byDefault {
                let f1 = computed.macroF1
                if abs(f1 - cell.report.best.macroF1) > 1e-6 {
                    warnings.append(
                        "\(name): predictions.h5 gives macro-F1 "
                            + String(
                                format: "%.4f%% but the best epoch records %.4f%%", 100 * f1,
                                100 * cell.report.best.macroF1))
                }
            } else if abs(computed.accuracy - cell.report.metric) > 1e-6 {
                warnings.append(
                    "\(name): predictions.h5 gives accuracy "
                        + String(
                            format: "%.4f%% but the best epoch records %.4f%%", 100 * computed.accuracy,
                            100 * cell.report.metric))
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
