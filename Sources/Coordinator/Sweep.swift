// Sweep: a researcher's sweep file (variants × seeds over one dataset and stage-1 model), parsed and checked.
import Foundation
import RunSpec

/// A sweep: every variant is trained once per seed on the same dataset, on top of the same stage-1 model.
/// Written as YAML (see docs/sweep-format.md); `load` and `parse` check the whole file and report every problem
/// at once in a `SweepError`.
public struct Sweep: Sendable, Equatable {
    /// The sweep's name (letters, digits, `.`, `_`, `-`).
    public var name: String
    /// Absolute path of the dataset file (a relative path in the file is resolved against the sweep file's directory);
    /// nil when the sweep has none (allowed when every variant runs a command).
    public var datasetPath: String?
    /// The dataset content hash the file pins (`dataset: {path:, content_hash:}`), lower-case hex; nil if none.
    public var datasetSHA256: String?
    /// Where the stage-1 model comes from.
    public var stage1: Stage1Source
    /// The stage of the cells (`stage: 2` by default; `3rect` and `3ab` allowed).
    public var stage: Stage
    /// The variant the others are compared against (one of `variants`).
    public var baseline: String
    /// The seeds every variant is trained with, in file order: the list of `seeds: [...]`, or the `initial` list of
    /// the adaptive form `seeds: {initial: [...], max: M}`.
    public var seeds: [UInt64]
    /// `max` of the adaptive form: the most seeds a variant may collect (see `seedSequence`); nil for a list of seeds.
    public var maxSeeds: Int?
    /// The `train` block: settings shared by every variant, as written, in file order.
    public var train: [SettingOverride]
    /// The variants in file order.
    public var variants: [SweepVariant]
    /// How the report judges differences from the baseline.
    public var significance: SignificanceSettings
    /// The metric the report judges on (`metric:`; `val_macro_f1`, higher is better, by default).
    public var metric = SweepMetric()
    /// Attempts per cell before it is marked failed (`max_attempts`, default 3).
    public var maxAttempts: Int
    /// A lab's order between sweeps (`priority:`): higher goes first, strictly (docs/scheduling.md); 0 by default.
    public var priority: Int
    /// The priorities a sweep may have.
    public static let priorityRange = -1000...1000
    /// The file's name as given to `load` or `parse` (for messages about the files the sweep names).
    public var sourceName: String
    /// Where the dataset's path is written (`dataset` or `dataset.path`); nil for a sweep built in code.
    public var datasetLocation: SweepKeyLocation?
    /// Where `stage1_checkpoint` is written; nil when the sweep has none or was built in code.
    public var stage1CheckpointLocation: SweepKeyLocation?

    public init(
        name: String, datasetPath: String?, datasetSHA256: String? = nil, stage1: Stage1Source,
        stage: Stage = .stage2, baseline: String, seeds: [UInt64], maxSeeds: Int? = nil, train: [SettingOverride] = [],
        variants: [SweepVariant], significance: SignificanceSettings = SignificanceSettings(), maxAttempts: Int = 3,
        priority: Int = 0,
        sourceName: String = "<sweep>", datasetLocation: SweepKeyLocation? = nil,
        stage1CheckpointLocation: SweepKeyLocation? = nil
    ) {
        self.name = name
        self.datasetPath = datasetPath
        self.datasetSHA256 = datasetSHA256
        self.stage1 = stage1
        self.stage = stage
        self.baseline = baseline
        self.seeds = seeds
        self.maxSeeds = maxSeeds
        self.train = train
        self.variants = variants
        self.significance = significance
        self.maxAttempts = maxAttempts
        self.priority = priority
        self.sourceName = sourceName
        self.datasetLocation = datasetLocation
        self.stage1CheckpointLocation = stage1CheckpointLocation
    }

    /// Reads and checks a sweep file. Relative paths in it are resolved against the sweep file's directory.
    /// - Throws: `SweepError` with every problem found (an unreadable file is one problem without a line).
    public static func load(path: String) throws -> Sweep {
        try parse(text: readText(path: path), sourceName: path, workingDirectory: directory(ofFile: path))
    }

    /// The absolute directory holding the file at `path` (relative to the process's working directory): what a
    /// sweep file's relative paths are resolved against.
    public static func directory(ofFile path: String) -> String {
        let absolute = SweepParser.absolutePath(path, in: FileManager.default.currentDirectoryPath)
        return URL(fileURLWithPath: absolute).deletingLastPathComponent().path
    }

    /// For a file the sweep names that does not exist: when the path written in the sweep was relative and names an
    /// existing file relative to the working directory instead (the rule before paths were resolved against the
    /// sweep file's directory), the sentence that says so; else nil.
    public func movedRelativePathHint(for resolved: String) -> String? {
        let directory = Sweep.directory(ofFile: sourceName)
        guard !FileManager.default.fileExists(atPath: resolved), resolved.hasPrefix(directory + "/") else { return nil }
        let written = String(resolved.dropFirst(directory.count + 1))
        let current = FileManager.default.currentDirectoryPath
        let old = SweepParser.absolutePath(written, in: current)
        guard old != resolved, FileManager.default.fileExists(atPath: old) else { return nil }
        return "relative paths in a sweep are resolved against the sweep file's directory (\(directory)), "
            + "and '\(written)' exists only relative to the working directory: write \(old) or a path relative to "
            + "the sweep file"
    }

    /// A sweep file's text.
    /// - Throws: `SweepError` with one problem saying why it cannot be read: no such file, a directory, no
    ///   permission, or bytes that are not UTF-8 text (with the line of the first bad byte).
    public static func readText(path: String) throws -> String {
        func failure(_ line: Int, _ message: String) -> SweepError {
            SweepError(sourceName: path, problems: [SweepProblem(line: line, column: 0, key: "", message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw failure(0, "cannot read the sweep file: no such file")
        }
        if isDirectory.boolValue { throw failure(0, "cannot read the sweep file: it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure(0, "cannot read the sweep file: permission denied or not a regular file")
        }
        let bytes = [UInt8](data)
        if let offset = firstInvalidUTF8(bytes) {
            let line = bytes[..<offset].filter { $0 == UInt8(ascii: "\n") }.count + 1
            throw failure(line, "the sweep file is not UTF-8 text (a bad byte at offset \(offset)); save it as UTF-8")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Offset of the first byte that does not start valid UTF-8, nil when every byte is valid.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }

    /// A problem with a file the sweep names, placed at the key that names it.
    public func fileProblem(at location: SweepKeyLocation?, key: String, _ message: String) -> SweepError {
        SweepError(
            sourceName: sourceName,
            problems: [
                SweepProblem(
                    line: location?.line ?? 0, column: location?.column ?? 0, key: location?.key ?? key,
                    message: message)
            ])
    }

    /// Parses and checks sweep YAML.
    /// - Parameters:
    ///   - sourceName: the file name used in problem lines.
    ///   - workingDirectory: the directory relative paths are resolved against (default: the process's).
    /// - Throws: `SweepError` with every problem found.
    public static func parse(text: String, sourceName: String = "<sweep>", workingDirectory: String? = nil) throws
        -> Sweep
    {
        let directory = workingDirectory ?? FileManager.default.currentDirectoryPath
        return try SweepParser.parse(text: text, sourceName: sourceName, workingDirectory: directory)
    }

    /// The variant named `name`.
    public func variant(named name: String) -> SweepVariant? {
        variants.first { $0.name == name }
    }
}

/// Where a key is written in a sweep file: its key path, line and column (1-based).
public struct SweepKeyLocation: Sendable, Equatable {
    public var key: String
    public var line: Int
    public var column: Int

    public init(key: String, line: Int, column: Int) {
        self.key = key
        self.line = line
        self.column = column
    }
}

/// Where a sweep's stage-1 model comes from.
public enum Stage1Source: Sendable, Equatable {
    /// An existing stage-1 checkpoint (absolute path) — key `stage1_checkpoint`.
    case checkpoint(path: String)
    /// A stage-1 training job the cells depend on — key `stage1`: its config is the stage-1 defaults with the
    /// block's own keys applied (the `train` block does not apply to it).
    case train(TrainingConfig)
    /// No stage-1 model: allowed when every variant runs its own command (neither key is given).
    case none
}

/// One setting as written in the file: its key and its value's YAML text (lists as `[3, 4]`).
public struct SettingOverride: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One variant of a sweep.
public struct SweepVariant: Sendable, Equatable {
    public var name: String
    /// The variant's own settings as written, in file order (not those of the `train` block).
    public var overrides: [SettingOverride]
    /// The resolved settings: stage defaults ← `train` ← the variant's overrides. Its `seed` is a placeholder
    /// (0) that each cell replaces; use `config(seed:)`.
    public var config: TrainingConfig
    /// A command the worker runs for this variant's cells instead of its built-in trainer (`command`).
    public var command: [String]?
    /// A per-attempt time limit in seconds (`timeout_s`).
    public var timeoutSeconds: Double?
    /// The variant this one replicates (`replica_of`): an A/A variant with the source's settings, command and
    /// time limit (its `overrides` are the source's) whose cells train with other seeds (`ReplicaSeeds`); nil for
    /// an ordinary variant.
    public var replicaOf: String?
    /// The command's own settings (`params`): the `train` block's with the variant's own over them per name (a
    /// replica's are its source's); empty for none and always for the native trainer.
    public var params: CommandParams
    /// The command's `env`, `workdir`, `resume_file` and `checkpoints`: the `train` block's with the variant's own
    /// over them (a replica's are its source's); empty for none and always for the native trainer.
    public var execution: CommandExecution
    /// The files whose content enters a command cell's id (`code`: the variant's own list, else the `train`
    /// block's); nil when neither gives one (the command's script is then found by `CodeFiles.defaultFile`).
    public var code: CodeSpec?
    /// The files and directories the command needs (`inputs`): the `train` block's with the variant's own over them
    /// by name, sorted by name (a replica's are its source's); empty for none and always for the native trainer.
    public var inputs: [SweepInput]

    public init(
        name: String, overrides: [SettingOverride], config: TrainingConfig, command: [String]? = nil,
        timeoutSeconds: Double? = nil, replicaOf: String? = nil, params: CommandParams = .none, code: CodeSpec? = nil,
        execution: CommandExecution = .none, inputs: [SweepInput] = []
    ) {
        self.inputs = inputs
        self.name = name
        self.overrides = overrides
        self.config = config
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.replicaOf = replicaOf
        self.params = params
        self.execution = execution
        self.code = code
    }

    /// The config of this variant's cell for `seed`.
    public func config(seed: UInt64) -> TrainingConfig {
        var config = self.config
        config.seed = seed
        return config
    }
}

/// How the report decides whether a variant differs from the baseline (key `significance`).
public struct SignificanceSettings: Sendable, Equatable {
    /// Smallest difference of the mean validation macro-F1 from the baseline, in percentage points, that counts
    /// (the research's rule: > +1.0 pp).
    public var thresholdPP: Double
    /// Level of the paired test and of the bootstrap confidence intervals.
    public var alpha: Double
    /// Bootstrap resamples.
    public var resamples: Int
    /// Seed of the bootstrap's random stream.
    public var seed: UInt64

    public init(thresholdPP: Double = 1.0, alpha: Double = 0.05, resamples: Int = 10_000, seed: UInt64 = 0) {
        self.thresholdPP = thresholdPP
        self.alpha = alpha
        self.resamples = resamples
        self.seed = seed
    }
}
