// ReportLoader: gathers a sweep's finished cells from a state directory (ledger, runs/<variant>/seed-<seed>/ files).
import AblateSupport
import CoordinatorKit
import DatasetKit
import Foundation
import NN
import RunSpec
import WorkerKit

/// One finished cell as read from the state directory.
public struct LoadedCell: Sendable {
    public var report: CellReport
    /// The cell's resolved config as stored in the ledger.
    public var configJSON: String
    /// Best-epoch validation predictions, when `predictions.h5` was readable.
    var predictions: CellPredictions?
}

/// Everything a report is computed from.
public struct ReportInputs: Sendable {
    public var sweepName: String
    public var baseline: String
    /// Variants in sweep order.
    public var variants: [String]
    /// The keys each variant's own block sets (its declared overrides).
    public var declared: [String: Set<String>]
    public var significance: SignificanceSettings
    public var classNames: [String]
    public var cells: [LoadedCell]
    /// Failed cells per variant.
    public var failed: [String: Int]
    public var warnings: [String]
    /// Each replica variant's source (`replica_of`), by the replica's name.
    public var replicaOf: [String: String] = [:]
    /// Each replica variant's sweep seed per training seed (the inverse of `ReplicaSeeds`): its cells pair with
    /// other variants' cells of that sweep seed.
    public var sweepSeeds: [String: [UInt64: UInt64]] = [:]
    /// The adaptive-seed design (`seeds: {initial, max}`), nil for a fixed list of seeds: each comparison is then
    /// judged at its look's level.
    public var design: SequentialDesign? = nil
    /// The metric each cell's best epoch is picked by and the variants are judged on (`metric:`).
    public var metric = SweepMetric()

    /// The sweep seed `cell` pairs by: its own seed, or for a replica's cell the sweep seed it was derived from.
    func pairingSeed(_ cell: CellReport) -> UInt64 {
        sweepSeeds[cell.variant]?[cell.seed] ?? cell.seed
    }

    /// The cells of `mine` and `theirs` that share a pairing seed, in ascending order of it (each variant has at most
    /// one cell per seed).
    func pairs(_ mine: [LoadedCell], _ theirs: [LoadedCell]) -> [CellPair] {
        let theirsBySeed = Dictionary(
            theirs.map { (pairingSeed($0.report), $0) }, uniquingKeysWith: { first, _ in first })
        return mine.compactMap { cell in
            let seed = pairingSeed(cell.report)
            return theirsBySeed[seed].map { CellPair(seed: seed, mine: cell, theirs: $0) }
        }.sorted { $0.seed < $1.seed }
    }
}

/// Two cells compared with each other: one of each side, with the same pairing seed.
struct CellPair: Sendable {
    var seed: UInt64
    var mine: LoadedCell
    var theirs: LoadedCell
}

/// Reads a state directory without writing to it (the ledger is opened read-only, so this works while the
/// coordinator runs).
public enum ReportLoader {
    /// Loads every finished cell of the recorded sweep. Throws `ReportError` (or the ledger's error) when the
    /// directory is not a state directory, its sweep cannot be read, or no cell has finished.
    public static func load(stateDirectory: String) throws -> ReportInputs {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: stateDirectory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw ReportError("\(stateDirectory): no such state directory")
        }
        let ledger = try Ledger(readingDirectory: stateDirectory)
        defer { try? ledger.close() }
        guard let text = try ledger.sweepText() else {
            throw ReportError("\(stateDirectory): no sweep recorded in the ledger yet")
        }
        let sweep: Sweep
        do {
            sweep = try Sweep.parse(
                text: text, sourceName: "\(stateDirectory)/\(Ledger.fileName) (recorded sweep)",
                workingDirectory: stateDirectory)
        } catch {
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw ReportError("\(stateDirectory): the recorded sweep does not parse: \(first)")
        }
        let names = sweep.variants.map(\.name)
        var warnings: [String] = []
        let all = try ledger.cells().filter {
            $0.stage != Stage.stage1.rawValue && $0.variant != SweepPlan.stage1VariantName
        }
        let strays = Set(all.map(\.variant)).subtracting(names).sorted()
        if !strays.isEmpty {
            warnings.append("cells of variants no longer in the sweep are left out: \(strays.joined(separator: ", "))")
        }
        let planned = Set(try ledger.plannedCells().map(\.id))
        let replaced = all.filter { names.contains($0.variant) && !planned.contains($0.id) }
        if !replaced.isEmpty {
            warnings.append(
                "\(replaced.count) cell(s) of an earlier version of the sweep (a variant's settings changed since) are left out"
            )
        }
        let mine = all.filter { names.contains($0.variant) && planned.contains($0.id) }
        var failed: [String: Int] = [:]
        for cell in mine where cell.state == .failed {
            failed[cell.variant, default: 0] += 1
            warnings.append("\(cell.variant) seed \(cell.seed): failed: \(cell.reason ?? "no reason recorded")")
        }
        var latest: [String: CellRecord] = [:]
        var duplicates: [String: Int] = [:]
        for cell in mine where cell.state == .done && cell.summaryJSON != nil {
            let key = "\(cell.variant)\u{0}\(cell.seed)"
            if let held = latest[key] {
                duplicates[key, default: 1] += 1
                if cell.updatedAt > held.updatedAt { latest[key] = cell }
            } else {
                latest[key] = cell
            }
        }
        for (key, count) in duplicates.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}")
            warnings.append(
                "\(parts.first ?? "") seed \(parts.last ?? ""): \(count) finished cells with different configs (the sweep was edited); the latest is used"
            )
        }
        let done = latest.values.sorted { ($0.position, $0.id) < ($1.position, $1.id) }
        guard !done.isEmpty else { throw ReportError("\(stateDirectory): no finished cells yet") }
        let workers = Dictionary(try ledger.workers().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let codes = try ledger.codes()
        var cells: [LoadedCell] = []
        for record in done {
            do {
                let attempts = try ledger.attempts(cell: record.id)
                var cell = try loadCell(
                    record, attempts: attempts, workers: workers, stateDirectory: stateDirectory,
                    metric: sweep.metric, warnings: &warnings)
                if case .known(let code)? = codes[record.id] { cell.report.provenance.code = code }
                cells.append(cell)
            } catch {
                warnings.append("\(record.variant) seed \(record.seed): left out: \(error)")
            }
        }
        for index in cells.indices {
            guard let variant = sweep.variant(named: cells[index].report.variant) else { continue }
            // The params are part of the id, so a planned cell ran with its variant's params.
            cells[index].report.params = variant.params.isEmpty ? nil : variant.params.canonicalJSON
        }
        for cell in cells {
            guard let variant = sweep.variant(named: cell.report.variant) else { continue }
            let differences = Provenance.differences(
                configJSON: cell.configJSON, expected: try variant.config(seed: cell.report.seed).canonicalJSON())
            if !differences.isEmpty {
                warnings.append(
                    "\(cell.report.variant) seed \(cell.report.seed): config differs from the sweep file: \(differences.joined(separator: ", "))"
                )
            }
        }
        let classes = cells.map(\.report.best.f1.count).max() ?? 0
        let stageNames = sweep.stage.classNames
        let classNames = stageNames.count == classes ? stageNames : (0..<classes).map { "class \($0)" }
        var declared: [String: Set<String>] = [:]
        for variant in sweep.variants { declared[variant.name] = Set(variant.overrides.map(\.key)) }
        var replicaOf: [String: String] = [:]
        for variant in sweep.variants { replicaOf[variant.name] = variant.replicaOf }
        let sweepSeeds = ReplicaSeeds.seeds(of: sweep).mapValues { seeds in
            Dictionary(seeds.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        return ReportInputs(
            sweepName: sweep.name, baseline: sweep.baseline, variants: names, declared: declared,
            significance: sweep.significance, classNames: classNames, cells: cells, failed: failed, warnings: warnings,
            replicaOf: replicaOf, sweepSeeds: sweepSeeds, design: design(of: sweep),
            metric: ReportBuilder.resolved(sweep.metric, sweep.significance))
    }

    /// The sequential design of an adaptive sweep (`seeds: {initial, max}`); nil for a list of seeds.
    public static func design(of sweep: Sweep) -> SequentialDesign? {
        guard let maximum = sweep.maxSeeds else { return nil }
        return SequentialDesign(initialSeeds: sweep.seeds.count, maximumSeeds: maximum, alpha: sweep.significance.alpha)
    }

    private static func loadCell(
        _ record: CellRecord, attempts: [AttemptRecord], workers: [String: WorkerRecord], stateDirectory: String,
        metric: SweepMetric, warnings: inout [String]
    ) throws -> LoadedCell {
        let name = "\(record.variant) seed \(record.seed)"
        guard let summaryText = record.summaryJSON else { throw ReportError("no summary") }
        let digest = try SummaryDigest.fromJSON(summaryText)
        let facts = try SummaryFacts.fromJSON(summaryText)
        // The best and last epochs: a native summary's records, or a command cell's lines (`CommandSummary`).
        var best: EpochMetrics
        let last: EpochMetrics?
        if let record = digest.best, !facts.isCommand {
            let missing = facts.missingNativeKeys
            guard missing.isEmpty else { throw ReportError("summary.json lacks \(missing.joined(separator: ", "))") }
            best = EpochMetrics(record)
            last = digest.last.map(EpochMetrics.init)
        } else if facts.isCommand {
            let records = try CommandRecord.records(summary: summaryText)
            let summaryBest = records.best.flatMap(CommandRecord.metrics).flatMap {
                $0.epoch == digest.bestEpoch && $0.macroF1.isFinite ? $0 : nil
            }
            // Judged on another metric, the lines need no val_macro_f1: the best epoch is picked below.
            guard
                let record = summaryBest
                    ?? (metric.picksSummaryEpoch ? nil : records.last.flatMap(CommandRecord.metrics))
            else {
                throw ReportError("summary has no best epoch with a finite val_macro_f1")
            }
            best = record
            last = records.last.flatMap(CommandRecord.metrics)
        } else {
            throw ReportError("summary has no best epoch (status \(digest.status.rawValue))")
        }
        let final = attempts.last { $0.attempt == record.attempt }
        let worker = final.flatMap { workers[$0.worker] }
        let hours = attempts.reduce(0.0) { $0 + max(0, ($1.endedAt ?? $1.startedAt) - $1.startedAt) } / 3600
        let provenance = CellProvenance(
            configSHA256: SHA256Hex.of(Array(record.configJSON.utf8)), datasetSHA256: facts.datasetSHA256,
            stage1SHA256: facts.stage1SHA256, codeVersion: worker?.codeVersion, worker: final?.worker,
            host: worker?.host,
            blasCore: facts.blasCore, blasThreads: facts.blasThreads)
        let directory =
            "\(stateDirectory)/\(ResultsWriter.relativeDirectory(variant: record.variant, seed: record.seed))"
        let records = try MetricRecords.read("\(directory)/metrics.jsonl")
        var history = records.values(of: MetricCatalog.defaultName)
        if history.isEmpty { history = [EpochValue(epoch: best.epoch, value: best.macroF1)] }
        // Another metric (or goal) than the summary's picks its own best epoch from the per-epoch records.
        var bestEpoch = digest.bestEpoch
        var value = best.macroF1
        if !metric.picksSummaryEpoch {
            guard let chosen = records.best(metric) else { throw ReportError("no epoch record has \(metric.name)") }
            guard let metrics = records.metrics(epoch: chosen.epoch) else {
                throw ReportError("the record of epoch \(chosen.epoch), best by \(metric.name), is unreadable")
            }
            best = metrics
            bestEpoch = chosen.epoch
            value = chosen.value
            history = records.values(of: metric.name)
        }
        var predictions: CellPredictions?
        let predictionsPath = "\(directory)/predictions.h5"
        if FileManager.default.fileExists(atPath: predictionsPath) {
            do {
                let read = try CellPredictions.read(predictionsPath)
                predictions = read
                if read.epoch != bestEpoch {
                    warnings.append(
                        "\(name): predictions.h5 is of epoch \(read.epoch) but the best epoch is \(bestEpoch)")
                }
            } catch {
                warnings.append("\(name): predictions.h5 unreadable (\(error)); no paired test for it")
            }
        } else if metric.rowStatistic != nil {
            // (For a mean-of-rows metric the comparison says when a cell lacks its score; other metrics have none.)
            warnings.append("\(name): no predictions.h5; no paired row test for it (seeds only)")
        }
        let report = CellReport(
            variant: record.variant, seed: record.seed, cellID: record.id, status: digest.status.rawValue, best: best,
            last: last, bestEpoch: bestEpoch, epochsRun: digest.epochsRun, epochsPlanned: record.epochs,
            earlyStopped: digest.status == .earlyStopped, totalParameters: facts.parameters?.total,
            trainableParameters: facts.parameters?.trainable, trainableShare: facts.parameters?.trainableShare,
            wallSeconds: digest.seconds,
            workerHours: hours, attempts: max(record.attempt, attempts.count), provenance: provenance, history: history,
            metric: value, epochs: records.points, configJSON: record.configJSON)
        return LoadedCell(report: report, configJSON: record.configJSON, predictions: predictions)
    }
}
