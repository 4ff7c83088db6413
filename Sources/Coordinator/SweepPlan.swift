// SweepPlan: the cells of a sweep (variant × seed, plus an optional stage-1 job), each named by a content id.
import AblateSupport
import Foundation
import RunSpec

/// One unit of work: a training run of one variant with one seed at one stage.
public struct PlannedCell: Sendable, Equatable {
    /// SHA-256 (64 lower-case hex digits) of the cell's fully resolved inputs; see `SweepPlan.cellID`.
    public var id: String
    /// The variant's name (`stage1` for the stage-1 job).
    public var variant: String
    /// The seed the cell trains with: a seed of the sweep's list, or for a replica variant the seed `ReplicaSeeds`
    /// derives from one.
    public var seed: UInt64
    /// The sweep seed the cell stands for: `seed`, or for a replica variant's cell the seed it was derived from.
    public var sweepSeed: UInt64
    public var stage: Stage
    /// The complete run config (its `seed` equals `seed`).
    public var config: TrainingConfig
    /// Id of the cell whose checkpoint this cell trains on (the stage-1 job), nil if none.
    public var dependsOn: String?
    /// Command the worker runs instead of its built-in trainer, nil for the built-in one.
    public var command: [String]?
    /// Per-attempt time limit in seconds, nil for none.
    public var timeoutSeconds: Double?
    /// The command's own settings (`params`), empty for none; they enter the id when there are any.
    public var params: CommandParams
    /// The command's code (`code:`, or the script its command runs; `CodeFiles`), nil for none; its hash enters the
    /// id when there is one.
    public var code: CodeRecord?
    /// The command's execution settings (`CommandExecution`); only their `env` enters the id, when there is one.
    public var execution: CommandExecution
    /// The command's inputs (`inputs:`; `InputFiles`), sorted by name, empty for none; they enter the id when there
    /// are any (identity key `inputs`).
    public var inputs: [CellInput] = []

    public init(
        id: String, variant: String, seed: UInt64, stage: Stage, config: TrainingConfig, dependsOn: String?,
        command: [String]?, timeoutSeconds: Double?, sweepSeed: UInt64? = nil, params: CommandParams = .none,
        code: CodeRecord? = nil, execution: CommandExecution = .none, inputs: [CellInput] = []
    ) {
        self.inputs = inputs
        self.id = id
        self.variant = variant
        self.seed = seed
        self.sweepSeed = sweepSeed ?? seed
        self.stage = stage
        self.config = config
        self.dependsOn = dependsOn
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.params = params
        self.code = code
        self.execution = execution
    }
}

/// A plan's inputs that do not fit: a bad hash, or a dataset whose content differs from the one the file pins.
public enum SweepPlanError: Error, CustomStringConvertible, Equatable {
    case invalidHash(what: String, value: String)
    case datasetHashMismatch(path: String?, pinned: String, actual: String)
    case missingStage1CheckpointHash(path: String)

    public var description: String {
        switch self {
        case .invalidHash(let what, let value):
            "\(what): expected a SHA-256 of 64 hex digits, got '\(value)'"
        case .datasetHashMismatch(let path, let pinned, let actual):
            "\(path ?? "dataset"): dataset content hash is \(actual) but the sweep pins \(pinned) (dataset.content_hash)"
        case .missingStage1CheckpointHash(let path):
            "\(path): the stage-1 checkpoint's SHA-256 is needed to plan the cells"
        }
    }
}

/// The cells of a sweep: the stage-1 job first (when the sweep trains one), then every variant in file order ×
/// every seed in file order (a replica variant's cell for a seed trains with that seed's `ReplicaSeeds` seed); for an
/// adaptive sweep those of its initial seeds, with the cells of its later seeds apart (`laterCells`).
public struct SweepPlan: Sendable, Equatable {
    /// Variant name of the stage-1 job's cell (reserved: no variant may use it).
    public static let stage1VariantName = "stage1"

    public var sweep: Sweep
    /// The stage-1 training job, when the sweep has `stage1:` instead of `stage1_checkpoint:`.
    public var stage1Cell: PlannedCell?
    /// Every cell of the sweep's seeds (for an adaptive sweep: of its initial seeds), the stage-1 job first.
    public var cells: [PlannedCell]
    /// An adaptive sweep's cells of the later seeds of its sequence (`Sweep.seedSequence` after the initial seeds),
    /// every variant in file order × those seeds in order: the cells the coordinator may add (`AdaptiveSeeds`).
    /// Empty for a list of seeds.
    public var laterCells: [PlannedCell]
    /// The cells of seeds clients added to variants (`ablate extend`; `extensionCells(for:)`), in the order added.
    public var extensionCells: [PlannedCell] = []
    /// What the cells' ids were computed from, so that cells of more seeds get ids by the same rules.
    public var basis = Basis()

    /// The inputs of `make` besides the sweep: the dataset's content hash, the stage-1 reference, code and inputs.
    public struct Basis: Sendable, Equatable {
        public var datasetContentHash: String?
        public var stage1Reference: String?
        public var code: [String: CodeRecord] = [:]
        public var inputs: [String: [CellInput]] = [:]
    }

    public init(sweep: Sweep, stage1Cell: PlannedCell?, cells: [PlannedCell], laterCells: [PlannedCell] = []) {
        self.sweep = sweep
        self.stage1Cell = stage1Cell
        self.cells = cells
        self.laterCells = laterCells
    }

    /// Plans `sweep`'s cells.
    /// - Parameters:
    ///   - datasetContentHash: the dataset's content hash (`DatasetFile.computeContentHash()`); checked against
    ///     the hash the sweep pins, if any.
    ///   - stage1CheckpointSHA256: SHA-256 of the stage-1 checkpoint file's bytes; required with
    ///     `stage1_checkpoint`, ignored with a stage-1 job (whose cell id stands for its checkpoint).
    ///   - code: each command variant's code (`CodeFiles.records`), by variant name; a variant's hash enters the ids
    ///     of its cells (identity key `code`), a variant without one keeps the ids it had before code was hashed.
    ///   - inputs: each command variant's inputs (`InputFiles.records`), by variant name; they enter the ids of its
    ///     cells (identity key `inputs`), a variant without any keeps the ids it had before inputs existed.
    public static func make(
        _ sweep: Sweep, datasetContentHash: String?, stage1CheckpointSHA256: String?, code: [String: CodeRecord] = [:],
        inputs: [String: [CellInput]] = [:]
    ) throws -> SweepPlan {
        let dataset = try datasetContentHash.map { hash throws in try checkedHash(hash, what: "dataset content hash") }
        if let pinned = sweep.datasetSHA256, let dataset, pinned != dataset {
            throw SweepPlanError.datasetHashMismatch(path: sweep.datasetPath, pinned: pinned, actual: dataset)
        }
        var stage1Cell: PlannedCell?
        let stage1Reference: String?
        switch sweep.stage1 {
        case .none:
            stage1Reference = nil
        case .checkpoint(let path):
            guard let given = stage1CheckpointSHA256 else {
                throw SweepPlanError.missingStage1CheckpointHash(path: path)
            }
            stage1Reference = try checkedHash(given, what: "stage-1 checkpoint SHA-256")
        case .train(let config):
            let id = try cellID(config: config, datasetContentHash: dataset, stage1: nil, command: nil)
            stage1Cell = PlannedCell(
                id: id, variant: stage1VariantName, seed: config.seed, stage: .stage1, config: config, dependsOn: nil,
                command: nil, timeoutSeconds: nil)
            stage1Reference = "cell:\(id)"
        }
        let basis = Basis(
            datasetContentHash: dataset, stage1Reference: stage1Reference, code: code, inputs: inputs)
        func cells(seeds: ArraySlice<UInt64>) throws -> [PlannedCell] {
            try variantCells(sweep, variants: sweep.variants, seeds: Array(seeds), basis: basis, stage1: stage1Cell?.id)
        }
        let sequence = sweep.seedSequence
        let initial = (stage1Cell.map { [$0] } ?? []) + (try cells(seeds: sequence.prefix(sweep.seeds.count)))
        let later = try cells(seeds: sequence.dropFirst(sweep.seeds.count))
        var plan = SweepPlan(sweep: sweep, stage1Cell: stage1Cell, cells: initial, laterCells: later)
        plan.basis = basis
        return plan
    }

    /// The cells of `variants` × `seeds` (variants in order, each over the seeds in order) with the ids the rules of
    /// `make` give them; a replica variant's cell trains with its `ReplicaSeeds` seed for a seed of the sequence.
    static func variantCells(
        _ sweep: Sweep, variants: [SweepVariant], seeds: [UInt64], basis: Basis, stage1: String?
    ) throws -> [PlannedCell] {
        let replicaSeeds = ReplicaSeeds.seeds(of: sweep)
        var cells: [PlannedCell] = []
        for variant in variants {
            for sweepSeed in seeds {
                let seed = replicaSeeds[variant.name]?[sweepSeed] ?? sweepSeed
                let config = variant.config(seed: seed)
                let record = variant.command == nil ? nil : basis.code[variant.name]
                var extras = variant.execution.identityExtras
                if let record { extras["code"] = record.identityJSON }
                let cellInputs = variant.command == nil ? [] : basis.inputs[variant.name] ?? []
                if !cellInputs.isEmpty { extras["inputs"] = CellInput.identityJSON(cellInputs) }
                let id = try cellID(
                    config: config, datasetContentHash: basis.datasetContentHash, stage1: basis.stage1Reference,
                    command: variant.command, params: variant.params, extras: extras)
                cells.append(
                    PlannedCell(
                        id: id, variant: variant.name, seed: seed, stage: config.stage, config: config,
                        dependsOn: stage1, command: variant.command, timeoutSeconds: variant.timeoutSeconds,
                        sweepSeed: sweepSeed, params: variant.params, code: record, execution: variant.execution,
                        inputs: cellInputs))
            }
        }
        return cells
    }

    /// The cells of `seeds` (each a variant and a seed a client added), planned by the rules of `make`, in order.
    /// A replica variant and a seed of its sweep's sequence are not extensions (`ExtensionPlanner` refuses them).
    public func extensionCells(for seeds: [ExtensionSeed]) throws -> [PlannedCell] {
        var out: [PlannedCell] = []
        for seed in seeds {
            guard let variant = sweep.variant(named: seed.variant) else { continue }
            out += try Self.variantCells(
                sweep, variants: [variant], seeds: [seed.seed], basis: basis, stage1: stage1Cell?.id)
        }
        return out
    }

    /// A cell's id: the lower-case hex SHA-256 of the UTF-8 of its `CellIdentity` text (schema, rule and how ids
    /// stay valid when settings are added: docs/sweep-format.md).
    /// - Throws: `SettingsError.invalid` when the config has no canonical JSON (a non-finite number): such a
    ///   config has no id, rather than one shared with other configs.
    public static func cellID(
        config: TrainingConfig, datasetContentHash: String?, stage1: String?, command: [String]?,
        params: CommandParams = .none, extras: [String: String] = [:]
    ) throws -> String {
        let text = try CellIdentity.text(
            config: config, datasetContentHash: datasetContentHash, stage1: stage1, command: command, params: params,
            extras: extras)
        return SHA256Hex.of(Array(text.utf8))
    }

    /// The cells of one variant, in seed order (the initial seeds' only, for an adaptive sweep).
    public func cells(ofVariant name: String) -> [PlannedCell] {
        cells.filter { $0.variant == name }
    }

    /// The cell with id `id`, of the initial seeds or a later one.
    public func cell(id: String) -> PlannedCell? {
        cells.first { $0.id == id } ?? laterCells.first { $0.id == id }
    }

    /// The ledger record of `cell` at plan position `position`.
    public static func record(_ cell: PlannedCell, position: Int) throws -> CellRecord {
        CellRecord(
            id: cell.id, variant: cell.variant, seed: cell.seed, stage: cell.stage.rawValue,
            configJSON: try cell.config.canonicalJSON(), dependsOn: cell.dependsOn, position: position,
            epochs: cell.config.epochs)
    }

    private static func checkedHash(_ value: String, what: String) throws -> String {
        let lower = value.lowercased()
        guard lower.count == 64, lower.allSatisfy(\.isHexDigit) else {
            throw SweepPlanError.invalidHash(what: what, value: value)
        }
        return lower
    }
}
