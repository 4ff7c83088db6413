// TrainCommand: `ablate train`, one native training run from flags and/or a YAML run file.
import AblateLog
import AblateSupport
import ArgumentParser
import Foundation
import NN
import RunSpec
import WorkerKit
import Yams

/// Trains one stage model and writes metrics.jsonl, best.h5, last.h5, summary.json to `--out`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Stage-1, Stage-2 or Stage-3 model natively (own GEMM kernels) with the research protocol.",
        discussion:
            "Settings come from the research defaults of --stage, then a YAML run file (--config), then flags.\n\n"
            + SettingsHelp.flagList)

    @Option(help: "Dataset file (.h5).") var data: String
    @Option(help: "Stage: 1, 2, 3rect or 3ab (or set in --config).") var stage: String?
    @Option(
        name: [.short, .long], help: "Output directory (created if missing): checkpoints, metrics.jsonl, summary.json.")
    var out: String
    @Option(help: "YAML run file; keys as in docs/training.md.") var config: String?
    @Option(name: .customLong("stage1-checkpoint"), help: "Stage-1 checkpoint whose backbone is frozen (stages 2/3).")
    var stage1Checkpoint: String?
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("Settings as --key value or --key=value (the setting flags above).", valueName: "setting"))
    var settingFlags: [String] = []
    @Option(help: "Resume from a last.h5 of the same run.") var resume: String?
    @Option(
        name: .customLong("cache-dir"),
        help: "Directory of frozen-prefix caches (default $ABLATE_CACHE_DIR or ~/.cache/ablate).") var cacheDir: String?
    @Flag(
        name: .customLong("no-prefix-cache"),
        help: "Train through the whole backbone even where the exact prefix cache applies.") var noPrefixCache = false
    @OptionGroup var kernelOptions: KernelOptions

    func run() throws {
        try kernelOptions.apply()
        let settings = try resolvedConfig()
        do { try settings.validate() } catch { throw RunFailure(message: error.description) }
        // A new run starts in a new or empty directory: it would mix its files with another run's.
        if resume == nil, Directories.isDirectory(out), !Directories.entries(out).isEmpty {
            throw RunFailure(
                message: "\(out): the output directory is not empty (give a new or empty one, or --resume its last.h5)")
        }
        // A run that fails before its first epoch leaves nothing behind; a later failure keeps its files.
        let undo = Directories.outermostMissing(out)
        FileHandle.standardOutput.write(
            Data(
                "training stage \(settings.stage.rawValue) (width \(settings.width), loss \(settings.loss), backbone_bn \(settings.backboneBN.rawValue), seed \(settings.seed), \(settings.threads) compute thread(s), GEMM kernel \(GEMMKernel.selected)) → \(out)\n"
                    .utf8))
        // Each epoch's line is written at once (print is block-buffered into pipes and journals), bare: the lines are
        // this command's output.
        let trainer = Trainer(
            config: settings, datasetPath: data, stage1CheckpointPath: stage1Checkpoint, outputDirectory: out,
            logger: AblateLogging.logger("trainer", to: .standardOutput, messageOnly: true))
        trainer.codeVersion = AblateVersion.string
        trainer.usePrefixCache = !noPrefixCache
        trainer.cacheDirectory = cacheDir
        // On a terminal, a line that moves during the cache build and each epoch; nothing in pipes and journals.
        if isatty(STDERR_FILENO) == 1 {
            trainer.onProgress = { FileHandle.standardError.write(Data(TrainingProgressLine.text($0).utf8)) }
        }
        let summary: TrainingSummary
        do {
            summary = try trainer.run(resume: resume)
        } catch {
            if let undo, !FileManager.default.fileExists(atPath: "\(out)/last.h5") {
                Directories.undo(out, created: undo, before: [])
            }
            throw error
        }
        if summary.status == .diverged {
            throw RunFailure(
                message:
                    "\(out): training diverged at epoch \(summary.divergedAtEpoch ?? 0) (non-finite loss); see summary.json"
            )
        }
        if let best = summary.best {
            print(
                String(
                    format:
                        "done: %@ after %d epochs; best epoch %d: val macro-F1 %.2f%% (precision %.2f%%, recall %.2f%%, accuracy %.2f%%)",
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
            } catch let error as SettingsError {
                throw RunFailure(message: "\(config): \(error)")
            } catch {
                throw RunFailure(message: "\(config): \(Self.describe(error))")
            }
            if let stage, stage != settings.stage.rawValue {
                throw RunFailure(message: "--stage \(stage) contradicts stage \(settings.stage.rawValue) in \(config)")
            }
        } else {
            guard let stage else {
                throw ValidationError("--stage is required (1, 2, 3rect or 3ab) unless --config sets it")
            }
            guard let parsed = Stage(rawValue: stage) else {
                throw ValidationError("--stage \(stage): expected \(Stage.allNames)")
            }
            settings = TrainingConfig(stage: parsed)
        }
        for (setting, value) in try SettingsHelp.parseFlags(settingFlags) where setting.key != "stage" {
            _ = setting.set(value, in: &settings)
        }
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
            if let underlying = context.underlyingError, underlying is SettingsError || underlying is DecodingError {
                return describe(underlying)
            }
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty
                ? "not valid YAML (\(context.debugDescription))" : "\(path): \(context.debugDescription)"
        case let error as SettingsError:
            return error.detail
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
