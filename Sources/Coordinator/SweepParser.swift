// SweepParser: reads a sweep file's top-level keys into a Sweep, collecting every problem on the way.
import Foundation
import RunSpec
import Yams

/// The parts of a sweep read so far; nil where the file lacks the key or its value is bad.
struct SweepParts {
    var name: String?
    var datasetPath: String?
    var datasetSHA256: String?
    var datasetLocation: SweepKeyLocation?
    var stage1CheckpointLocation: SweepKeyLocation?
    var stage1: Stage1Source?
    var stage1Entry: SweepEntry?
    var stage1Settings: [SweepEntry] = []
    /// Neither `stage1_checkpoint` nor `stage1` was given.
    var stage1Missing = false
    var stage: Stage = .stage2
    var baseline: String?
    var seeds: [UInt64]?
    /// `seeds.max` of the adaptive form; nil for a list of seeds.
    var maxSeeds: Int?
    var train = SettingsBlock()
    /// The `train` block's `command` and `timeout_s`: every variant's unless it gives its own.
    var defaultCommand: [String]?
    var defaultTimeoutSeconds: Double?
    /// Where the `train` block's `command` is written (its placeholders are checked once the variants are read).
    var defaultCommandEntry: SweepEntry?
    /// The `train` block's `params`: every command variant's, each of which may override them per name.
    var trainParams = ParamsBlock()
    /// The `train` block's `code`: every command variant's unless it gives its own.
    var defaultCode: CodeSpec?
    var defaultCodeEntry: SweepEntry?
    /// The `train` block's `env`, `workdir`, `resume_file` and `checkpoints`: every command variant's defaults.
    var trainExecution = ExecutionBlock()
    /// The `train` block's `inputs`: every command variant's, each of which may add or replace them by name.
    var trainInputs = InputsBlock()
    /// The sweep file's directory: what relative paths are resolved against.
    var directory = ""
    /// The variants that could be read (each bad one has reported its problems).
    var variants: [SweepVariant]?
    var variantEntries: [SweepEntry] = []
    /// Every variant name in the file, good variant or not (so the baseline can be checked regardless).
    var variantNames: [String]?
    var significance = SignificanceSettings()
    var metric = SweepMetric()
    var maxAttempts = 3
    var priority = 0
}

enum SweepParser {
    static let topKeys = [
        "name", "dataset", "stage1_checkpoint", "stage1", "stage", "baseline", "seeds", "train", "variants",
        "significance", "max_attempts", "metric", "priority",
    ]

    static func parse(text: String, sourceName: String, workingDirectory: String) throws -> Sweep {
        let composed = SweepYAML.compose(text)
        var reader = SweepReader(duplicates: composed.duplicates)
        reader.problems = composed.problems
        guard let root = composed.root else {
            if reader.problems.isEmpty {
                reader.problems.append(SweepProblem(line: 1, column: 1, key: "", message: "the file is empty"))
            }
            throw SweepError(sourceName: sourceName, problems: reader.problems)
        }
        var parts = SweepParts()
        if let entries = reader.entries(of: root, path: "") {
            read(entries, root: root, into: &parts, workingDirectory: workingDirectory, reader: &reader)
        }
        let problems = Array(Set(reader.problems))
        guard problems.isEmpty, let name = parts.name, let stage1 = parts.stage1, let baseline = parts.baseline,
            let seeds = parts.seeds,
            let variants = parts.variants
        else {
            let fallback = SweepProblem(line: 0, column: 0, key: "", message: "incomplete sweep")
            throw SweepError(sourceName: sourceName, problems: problems.isEmpty ? [fallback] : problems)
        }
        let train = parts.train.settings.map { SettingOverride(key: $0.key, value: valueText($0.value)) }
        var sweep = Sweep(
            name: name, datasetPath: parts.datasetPath, datasetSHA256: parts.datasetSHA256, stage1: stage1,
            stage: parts.stage, baseline: baseline, seeds: seeds, maxSeeds: parts.maxSeeds, train: train,
            variants: variants,
            significance: parts.significance, maxAttempts: parts.maxAttempts, priority: parts.priority,
            sourceName: sourceName,
            datasetLocation: parts.datasetLocation, stage1CheckpointLocation: parts.stage1CheckpointLocation)
        sweep.metric = parts.metric
        return sweep
    }

    /// Reads the top-level entries in dependency order (stage before settings, settings before variants).
    static func read(
        _ entries: [SweepEntry], root: Node, into parts: inout SweepParts, workingDirectory: String,
        reader: inout SweepReader
    ) {
        var top: [String: SweepEntry] = [:]
        for entry in entries {
            if topKeys.contains(entry.key) {
                top[entry.key] = entry
            } else {
                reader.reportUnknown(entry, known: topKeys, what: "not a sweep setting")
            }
        }
        parts.directory = workingDirectory
        // `dataset` is required unless every variant runs a command (checked once the variants are read).
        for key in ["name", "baseline", "seeds", "variants"] where top[key] == nil {
            reader.report(root, key, "missing (required)")
        }
        if let entry = top["name"], let name = reader.string(entry) {
            if SweepReader.isSafeName(name) {
                parts.name = name
            } else {
                reader.report(entry, "'\(name)' must use only letters, digits, '.', '_' and '-'")
            }
        }
        if let entry = top["dataset"] { readDataset(entry, into: &parts, workingDirectory, &reader) }
        if let entry = top["stage"] { parts.stage = readStage(entry, &reader) ?? parts.stage }
        readStage1(top, root: root, into: &parts, workingDirectory, &reader)
        if let entry = top["seeds"] { readSeedsEntry(entry, into: &parts, &reader) }
        if let entry = top["train"] {
            let forbidden = [
                "stage": "set the cells' stage once, at the top level (stage:)",
                "seed": "seeds come from the top-level seeds list",
            ]
            parts.train =
                SweepSettings.readBlock(
                    entry.value, path: entry.path, stage: parts.stage, extras: SweepVariants.extraKeys,
                    forbidden: forbidden,
                    reader: &reader) ?? SettingsBlock()
            let defaults = SweepVariants.readExtras(
                parts.train.extras, inherited: nil, directory: workingDirectory, reader: &reader)
            parts.defaultCommand = defaults.command
            parts.defaultCommandEntry = defaults.commandEntry
            parts.defaultTimeoutSeconds = defaults.timeoutSeconds
            parts.trainParams = defaults.params
            parts.defaultCode = defaults.code
            parts.defaultCodeEntry = defaults.codeEntry
            parts.trainExecution = defaults.execution
            parts.trainInputs = defaults.inputs
        }
        if let entry = top["variants"] {
            SweepVariants.read(entry, into: &parts, reader: &reader)
            SweepVariants.checkDefaultCommand(parts, reader: &reader)
        }
        // A variant that could not be read has reported why; the dataset is missing when one that could runs the
        // native trainer (or there are no variants to tell).
        let anyNative = parts.variants?.contains { $0.command == nil } ?? false
        if top["dataset"] == nil && (anyNative || top["variants"] == nil) {
            reader.report(root, "dataset", "missing (required unless every variant runs a command)")
        }
        if parts.stage1Missing {
            if let variants = parts.variants, !variants.isEmpty, variants.allSatisfy({ $0.command != nil }) {
                parts.stage1 = Stage1Source.none
            } else {
                reader.report(
                    root, "stage1_checkpoint",
                    "missing: give stage1_checkpoint (an existing checkpoint) or stage1 (a stage-1 training job)")
            }
        }
        if let entry = top["baseline"], let baseline = reader.string(entry) {
            parts.baseline = baseline
            if let names = parts.variantNames, !names.isEmpty, !names.contains(baseline) {
                let names = names.joined(separator: ", ")
                reader.report(entry, "'\(baseline)' is not one of the variants (\(names))")
            } else if let source = parts.variants?.first(where: { $0.name == baseline })?.replicaOf {
                reader.report(entry, "'\(baseline)' is a replica (of '\(source)'); make '\(source)' the baseline")
            }
        }
        if let entry = top["significance"] { readSignificance(entry, into: &parts, &reader) }
        if let entry = top["metric"] { readMetric(entry, into: &parts, &reader) }
        if let entry = top["max_attempts"] { parts.maxAttempts = reader.int(entry, atLeast: 1) ?? parts.maxAttempts }
        if let entry = top["priority"], let value = reader.int(entry, atLeast: Sweep.priorityRange.lowerBound) {
            if value > Sweep.priorityRange.upperBound {
                reader.report(entry, "\(value) must be at most \(Sweep.priorityRange.upperBound)")
            } else {
                parts.priority = value
            }
        }
        SweepVariants.crossCheck(parts, reader: &reader)
    }

    static func readDataset(
        _ entry: SweepEntry, into parts: inout SweepParts, _ directory: String, _ reader: inout SweepReader
    ) {
        guard entry.value.mapping != nil else {
            parts.datasetPath = reader.string(entry).map { absolutePath($0, in: directory) }
            parts.datasetLocation = location(of: entry)
            return
        }
        guard let entries = reader.entries(of: entry.value, path: entry.path) else { return }
        var sawPath = false
        for item in entries {
            switch item.key {
            case "path":
                sawPath = true
                parts.datasetPath = reader.string(item).map { absolutePath($0, in: directory) }
                parts.datasetLocation = location(of: item)
            case "content_hash":
                guard let hash = reader.string(item)?.lowercased() else { break }
                if hash.count == 64, hash.allSatisfy(\.isHexDigit) {
                    parts.datasetSHA256 = hash
                } else {
                    reader.report(item, "expected 64 hex digits (the dataset's content hash), found '\(hash)'")
                }
            default:
                reader.reportUnknown(item, known: ["path", "content_hash"], what: "expected path or content_hash")
            }
        }
        if !sawPath { reader.report(entry.keyNode, "\(entry.path).path", "missing (required)") }
    }

    /// The cells' stage: `2` (or `stage2`), `3rect` (`stage3_rect`) or `3ab` (`stage3_ab`).
    static func readStage(_ entry: SweepEntry, _ reader: inout SweepReader) -> Stage? {
        guard let text = reader.string(entry)?.lowercased() else { return nil }
        for stage in Stage.allCases where stage != .stage1 {
            let raw = stage.rawValue
            let spellings = [raw, "stage\(raw)", "stage\(raw.prefix(1))_\(raw.dropFirst())"]
            if spellings.contains(text) { return stage }
        }
        if text == "1" || text == "stage1" {
            reader.report(entry, "cells are stage 2 or 3; the stage-1 model comes from stage1 or stage1_checkpoint")
        } else {
            reader.report(entry, "unknown stage '\(text)' (expected 2, 3rect or 3ab)")
        }
        return nil
    }

    static func readStage1(
        _ top: [String: SweepEntry], root: Node, into parts: inout SweepParts, _ directory: String,
        _ reader: inout SweepReader
    ) {
        let checkpoint = top["stage1_checkpoint"]
        let job = top["stage1"]
        switch (checkpoint, job) {
        case (nil, nil):
            // Decided once the variants are read: a sweep whose variants all run commands needs no stage-1 model.
            parts.stage1Missing = true
        case (.some(let first), .some(let second)):
            let later = first.line > second.line ? first : second
            reader.report(later, "give either stage1_checkpoint or stage1, not both")
        case (.some(let entry), nil):
            if let path = reader.string(entry) {
                parts.stage1 = .checkpoint(path: absolutePath(path, in: directory))
                parts.stage1CheckpointLocation = location(of: entry)
            }
        case (nil, .some(let entry)):
            parts.stage1Entry = entry
            let forbidden = ["stage": "the stage-1 job is always stage 1"]
            guard
                let block = SweepSettings.readBlock(
                    entry.value, path: entry.path, stage: .stage1, extras: [], forbidden: forbidden, reader: &reader)
            else { return }
            parts.stage1Settings = block.settings
            guard
                let (config, valid) = SweepSettings.resolve(
                    stage: .stage1, layers: [block.settings], fallback: (entry.keyNode, entry.path), reader: &reader)
            else { return }
            let unused = SweepSettings.unusedLossParameters(block.settings, config: config)
            for entry in unused { reader.report(entry, "does not apply to loss '\(config.loss)'") }
            if valid && unused.isEmpty { parts.stage1 = .train(config) }
        }
    }

    /// `seeds`: a list of seeds, or the adaptive form `{initial: [...], max: M}` (docs/sweep-format.md).
    static func readSeedsEntry(_ entry: SweepEntry, into parts: inout SweepParts, _ reader: inout SweepReader) {
        guard entry.value.mapping != nil else {
            guard entry.value.sequence != nil else {
                reader.report(
                    entry,
                    "expected a list of seeds or {initial: [...], max: N}, found \(SweepReader.describe(entry.value))")
                return
            }
            parts.seeds = readSeeds(entry, &reader)
            return
        }
        guard let entries = reader.entries(of: entry.value, path: entry.path) else { return }
        let known = ["initial", "max"]
        var initial: [UInt64]?
        var maximum: (value: Int, entry: SweepEntry)?
        var sawInitial = false
        var sawMax = false
        for item in entries {
            switch item.key {
            case "initial":
                sawInitial = true
                initial = readSeeds(item, &reader)
            case "max":
                sawMax = true
                guard let value = reader.int(item, atLeast: 1) else { break }
                if value > Sweep.maximumAdaptiveSeeds {
                    reader.report(item, "\(value) must be at most \(Sweep.maximumAdaptiveSeeds)")
                } else {
                    maximum = (value, item)
                }
            default:
                reader.reportUnknown(item, known: known, what: "expected initial or max")
            }
        }
        if !sawInitial { reader.report(entry.keyNode, "\(entry.path).initial", "missing (required)") }
        if !sawMax { reader.report(entry.keyNode, "\(entry.path).max", "missing (required)") }
        guard let initial, let maximum else { return }
        guard maximum.value >= initial.count else {
            reader.report(
                maximum.entry, "\(maximum.value) must be at least the number of initial seeds (\(initial.count))")
            return
        }
        guard Sweep.seedSequence(initial: initial, maximum: maximum.value).count == maximum.value else {
            reader.report(
                maximum.entry, "the seeds after max(initial) would pass \(UInt64.max); use smaller initial seeds")
            return
        }
        parts.seeds = initial
        parts.maxSeeds = maximum.value
    }

    static func readSeeds(_ entry: SweepEntry, _ reader: inout SweepReader) -> [UInt64]? {
        guard let items = reader.sequence(entry) else { return nil }
        guard !items.isEmpty else {
            reader.report(entry, "must list at least one seed")
            return nil
        }
        var seeds: [UInt64] = []
        var firstLine: [UInt64: Int] = [:]
        var bad = false
        for (index, item) in items.enumerated() {
            let path = "\(entry.path)[\(index)]"
            guard let seed = reader.uint64(item, path: path) else {
                bad = true
                continue
            }
            if let line = firstLine[seed] {
                reader.report(item, path, "duplicate seed \(seed) (first on line \(line))")
                bad = true
                continue
            }
            firstLine[seed] = item.mark?.line ?? 0
            seeds.append(seed)
        }
        return bad ? nil : seeds
    }

    static func readSignificance(_ entry: SweepEntry, into parts: inout SweepParts, _ reader: inout SweepReader) {
        guard let entries = reader.entries(of: entry.value, path: entry.path) else { return }
        let known = ["threshold_pp", "alpha", "resamples", "seed"]
        for item in entries {
            switch item.key {
            case "threshold_pp":
                guard let value = reader.number(item) else { break }
                if value < 0 { reader.report(item, "\(value) must not be negative") }
                parts.significance.thresholdPP = value
            case "alpha":
                guard let value = reader.number(item) else { break }
                if !(value > 0 && value < 1) { reader.report(item, "\(value) must lie strictly between 0 and 1") }
                parts.significance.alpha = value
            case "resamples":
                parts.significance.resamples = reader.int(item, atLeast: 1) ?? parts.significance.resamples
            case "seed":
                parts.significance.seed = reader.uint64(item.value, path: item.path) ?? parts.significance.seed
            default:
                reader.reportUnknown(item, known: known, what: "expected \(known.joined(separator: ", "))")
            }
        }
    }

    /// Where an entry's key is written.
    static func location(of entry: SweepEntry) -> SweepKeyLocation {
        SweepKeyLocation(key: entry.path, line: entry.line, column: entry.keyNode.mark?.column ?? 0)
    }

    /// `path` made absolute against `directory` (`~` expanded), with `.` and `..` removed.
    static func absolutePath(_ path: String, in directory: String) -> String {
        let expanded = NSString(string: path).expandingTildeInPath
        let url =
            expanded.hasPrefix("/")
            ? URL(fileURLWithPath: expanded)
            : URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent(expanded)
        return url.standardizedFileURL.path
    }

    /// A value's YAML text on one line: scalars as written, lists as `[a, b]`, mappings as `{k: v}`.
    static func valueText(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .sequence(let sequence): return "[" + sequence.map(valueText).joined(separator: ", ") + "]"
        case .mapping(let mapping):
            return "{" + mapping.map { "\(valueText($0.key)): \(valueText($0.value))" }.joined(separator: ", ") + "}"
        case .alias: return "*"
        }
    }
}
