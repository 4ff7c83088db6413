// TrainCommand: `ablate train`, one native training run from flags and/or a YAML run file.
import AblateSupport
import ArgumentParser
import Foundation
import NN
import WorkerKit
import Yams

/// Trains one stage model and writes metrics.jsonl, best.h5, last.h5, summary.json to `--out`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Stage-1, Stage-2 or Stage-3 model natively (OpenBLAS) with the research protocol.",
        discussion: "Settings come from the research defaults of --stage, then a YAML run file (--config), then flags.")

    @Option(help: "Dataset file (.h5).") var data: String
    @Option(help: "Stage: 1, 2, 3rect or 3ab (or set in --config).") var stage: String?
    @Option(help: "Output directory.") var out: String
    @Option(help: "YAML run file; keys as in docs/training.md.") var config: String?
    @Option(name: .customLong("stage1-checkpoint"), help: "Stage-1 checkpoint whose backbone is frozen (stages 2/3).") var stage1Checkpoint: String?
    @Option(help: "Loss: cb_focal, poly, asymmetric, focal_smoothing, focal, ce.") var loss: String?
    @Option(help: "Focal γ.") var gamma: Double?
    @Option(help: "Class-balance β.") var beta: Double?
    @Option(help: "PolyLoss ε.") var epsilon: Double?
    @Option(name: .customLong("gamma-pos"), help: "Asymmetric loss γ+.") var gammaPositive: Double?
    @Option(name: .customLong("gamma-neg"), help: "Asymmetric loss γ−.") var gammaNegative: Double?
    @Option(help: "Label smoothing ε.") var smoothing: Double?
    @Option(name: .customLong("backbone-bn"), help: "BatchNorm mode of the frozen backbone: eval or train.") var backboneBN: String?
    @Option(name: .customLong("adapter-reduction"), help: "Adapter reduction γ (2, 4, 8, 16).") var adapterReduction: Int?
    @Option(name: .customLong("adapter-layers"), help: "Comma-separated backbone layers with adapters, e.g. 3,4.") var adapterLayers: String?
    @Option(help: "Backbone base width (64 = the research model).") var width: Int?
    @Option(help: "Maximum epochs.") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize: Int?
    @Option(name: .customLong("lr-adapter")) var lrAdapter: Double?
    @Option(name: .customLong("lr-head")) var lrHead: Double?
    @Option(name: .customLong("lr-backbone")) var lrBackbone: Double?
    @Option(help: "Seed.") var seed: UInt64?
    @Option(help: "Compute threads (results do not depend on it).") var threads: Int?
    @Option(name: .customLong("max-train-rows"), help: "Use only the first N training rows of the stage.") var maxTrainRows: Int?
    @Option(name: .customLong("max-val-rows"), help: "Use only the first N validation rows of the stage.") var maxValRows: Int?
    @Option(help: "Resume from a last.h5 of the same run.") var resume: String?
    @Option(name: .customLong("cache-dir"), help: "Directory of frozen-prefix caches (default $ABLATE_CACHE_DIR or ~/.cache/ablate).") var cacheDir: String?
    @Flag(name: .customLong("no-prefix-cache"), help: "Train through the whole backbone even where the exact prefix cache applies.") var noPrefixCache = false

    func run() throws {
        let settings = try resolvedConfig()
        try settings.validate()
        // A new run starts in a new or empty directory: it would mix its files with another run's.
        if resume == nil, Directories.isDirectory(out), !Directories.entries(out).isEmpty {
            throw RunFailure(message: "\(out): the output directory is not empty (give a new or empty one, or --resume its last.h5)")
        }
        // A run that fails before its first epoch leaves nothing behind; a later failure keeps its files.
        let undo = Directories.outermostMissing(out)
        FileHandle.standardOutput.write(Data("training stage \(settings.stage.rawValue) (width \(settings.width), loss \(settings.loss), backbone_bn \(settings.backboneBN.rawValue), seed \(settings.seed), \(settings.threads) compute thread(s), kernel \(BLAS.coreName)) → \(out)\n".utf8))
        // Each epoch's line is written at once (print is block-buffered into pipes and journals).
        let trainer = Trainer(config: settings, datasetPath: data, stage1CheckpointPath: stage1Checkpoint, outputDirectory: out,
                              log: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) })
        trainer.codeVersion = AblateVersion.string
        trainer.usePrefixCache = !noPrefixCache
        trainer.cacheDirectory = cacheDir
        let summary: TrainingSummary
        do {
            summary = try trainer.run(resume: resume)
        } catch {
            if let undo, !FileManager.default.fileExists(atPath: "\(out)/last.h5") { Directories.undo(out, created: undo, before: []) }
            throw error
        }
        if summary.status == .diverged {
            throw RunFailure(message: "\(out): training diverged at epoch \(summary.divergedAtEpoch ?? 0) (non-finite loss); see summary.json")
        }
        if let best = summary.best {
            print(String(format: "done: %@ after %d epochs; best epoch %d: val macro-F1 %.2f%% (precision %.2f%%, recall %.2f%%, accuracy %.2f%%)",
                         summary.status.rawValue, summary.epochsRun, summary.bestEpoch, 100 * best.val.macroF1,
                         100 * best.val.macroPrecision, 100 * best.val.macroRecall, 100 * best.val.accuracy))
        }
    }

    /// Stage defaults ← run file ← flags.
    func resolvedConfig() throws -> TrainingConfig {
        var settings: TrainingConfig
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw RunFailure(message: "\(config): cannot read the run file")
            }
            do {
                settings = try YAMLDecoder().decode(TrainingConfig.self, from: text)
            } catch let error as TrainingError {
                throw RunFailure(message: "\(config): \(error)")
            } catch {
                throw RunFailure(message: "\(config): \(Self.describe(error))")
            }
            if let stage, stage != settings.stage.rawValue {
                throw RunFailure(message: "--stage \(stage) contradicts stage \(settings.stage.rawValue) in \(config)")
            }
        } else {
            guard let stage else { throw ValidationError("--stage is required (1, 2, 3rect or 3ab) unless --config sets it") }
            guard let parsed = ModelStage(rawValue: stage) else { throw ValidationError("--stage \(stage): expected 1, 2, 3rect or 3ab") }
            settings = TrainingConfig(stage: parsed)
        }
        if let loss { settings.loss = loss }
        if let gamma { settings.gamma = gamma }
        if let beta { settings.beta = beta }
        if let epsilon { settings.epsilon = epsilon }
        if let gammaPositive { settings.gammaPositive = gammaPositive }
        if let gammaNegative { settings.gammaNegative = gammaNegative }
        if let smoothing { settings.smoothing = smoothing }
        if let backboneBN {
            guard let mode = TrainingConfig.BatchNormSetting(rawValue: backboneBN) else { throw ValidationError("--backbone-bn \(backboneBN): expected eval or train") }
            settings.backboneBN = mode
        }
        if let adapterReduction { settings.adapterReduction = adapterReduction }
        if let adapterLayers {
            let layers = adapterLayers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "layer", with: "")) }
            guard !layers.isEmpty else { throw ValidationError("--adapter-layers \(adapterLayers): expected e.g. 3,4") }
            settings.adapterLayers = layers
        }
        if let width { settings.width = width }
        if let epochs { settings.epochs = epochs }
        if let batchSize { settings.batchSize = batchSize }
        if let lrAdapter { settings.lrAdapter = lrAdapter }
        if let lrHead { settings.lrHead = lrHead }
        if let lrBackbone { settings.lrBackbone = lrBackbone }
        if let seed { settings.seed = seed }
        if let threads { settings.threads = threads }
        if let maxTrainRows { settings.maxTrainRows = maxTrainRows }
        if let maxValRows { settings.maxValRows = maxValRows }
        return settings
    }

    /// A decoding error as one line: the key path and what was wrong.
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(let type, let context), DecodingError.valueNotFound(let type, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): expected \(type)"
        case DecodingError.keyNotFound(let key, _):
            return "missing key '\(key.stringValue)'"
        case DecodingError.dataCorrupted(let context):
            if let underlying = context.underlyingError, underlying is TrainingError || underlying is DecodingError {
                return describe(underlying)
            }
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not valid YAML (\(context.debugDescription))" : "\(path): \(context.debugDescription)"
        case let error as TrainingError:
            if case .badConfig(let detail) = error { return detail }
            return "\(error)"
        default:
            return "\(error)"
        }
    }
}

/// A failure with a prepared one-line message.
struct RunFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
