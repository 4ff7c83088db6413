// CellCommand: a user trainer's command line for one cell, with the coordinator's placeholders filled in.
import Foundation
import RunSpec
import WireProtocol

/// What a worker runs for a bring-your-own-trainer cell: its argv (`{seed}`, `{variant}` and training settings
/// filled in; `{out}` and `{gpu}` left for the worker), its per-attempt time limit and its params (sent in ASSIGN).
public struct CellCommand: Sendable, Equatable {
    public var argv: [String]
    public var timeoutSeconds: Double?
    /// The cell's params (`params:` of the sweep), empty for none.
    public var params: CommandParams
    /// The cell's execution settings, `env` values with the coordinator's placeholders filled (sent in ASSIGN).
    public var execution: CommandExecution
    /// The cell's inputs as ASSIGN carries them (`InputFiles.register`); nil for none.
    public var inputs: [InputRef]?
    /// The key each of the command's metrics lines must carry (ASSIGN `metric`): the sweep's metric, nil for
    /// `val_macro_f1` (ASSIGN then looks as before).
    public var metric: String? = nil

    public init(
        argv: [String], timeoutSeconds: Double?, params: CommandParams = .none, execution: CommandExecution = .none
    ) {
        self.argv = argv
        self.timeoutSeconds = timeoutSeconds
        self.params = params
        self.execution = execution
    }

    /// ASSIGN's `params`: the params' canonical JSON, nil when there are none (ASSIGN then looks as before params).
    public var paramsJSON: String? { params.isEmpty ? nil : params.canonicalJSON }
}

/// A placeholder in a command that nothing fills.
public struct CommandPlaceholderError: Error, CustomStringConvertible, Equatable {
    public var variant: String
    public var argument: String
    public var name: String
    public var description: String {
        "variant '\(variant)': command argument '\(argument)' uses {\(name)}, which is neither seed, variant, out, gpu, a training setting nor a param"
    }
}

/// The coordinator's side of command placeholders (syntax: `CommandPlaceholderText`).
public enum CommandPlaceholders {
    /// Placeholders the worker fills: its output directory and its GPU index.
    public static let workerFilled: Set<String> = ["out", "gpu"]

    /// The coordinator's values for one cell: `seed`, `variant`, every training setting of `SettingsTable` with a
    /// single value in its resolved config (lists and unset settings are not placeholders), overridden by the `train`
    /// block's and then the variant's settings as written; and each param's placeholder text (`ParamValue`).
    public static func values(
        seed: UInt64, variant: String, config: TrainingConfig, written: [SettingOverride], params: CommandParams = .none
    ) -> [String: String] {
        var values: [String: String] = [:]
        for setting in SettingsTable.all {
            switch setting.value(in: config) {
            case .integer(let value): values[setting.key] = String(value)
            case .number(let value): values[setting.key] = "\(value)"
            case .seed(let value): values[setting.key] = String(value)
            case .text(let value): values[setting.key] = value
            case .integers, .none: break
            }
        }
        for setting in written { values[setting.key] = setting.value }
        for (name, value) in params.placeholderValues { values[name] = value }
        values["seed"] = String(seed)
        values["variant"] = variant
        return values
    }

    /// Fills the coordinator's placeholders of `argv`; `{out}` and `{gpu}` stay for the worker.
    /// - Throws: `CommandPlaceholderError` for a placeholder nothing fills.
    public static func fill(_ argv: [String], values: [String: String], variant: String) throws -> [String] {
        try argv.map { argument in
            for name in CommandPlaceholderText.names(in: argument)
            where values[name] == nil && !workerFilled.contains(name) {
                throw CommandPlaceholderError(variant: variant, argument: argument, name: name)
            }
            return CommandPlaceholderText.substitute(argument) { values[$0] }
        }
    }

    /// The filled command of every command cell of `plan`, by cell id.
    public static func commands(for plan: SweepPlan) throws -> [String: CellCommand] {
        var commands: [String: CellCommand] = [:]
        for cell in plan.cells + plan.laterCells + plan.extensionCells {
            guard let argv = cell.command else { continue }
            let written = plan.sweep.train + (plan.sweep.variant(named: cell.variant)?.overrides ?? [])
            let values = values(
                seed: cell.seed, variant: cell.variant, config: cell.config, written: written, params: cell.params)
            var execution = cell.execution
            for (name, value) in cell.execution.env.sorted(by: { $0.key < $1.key }) {
                execution.env[name] = try fill([value], values: values, variant: cell.variant).first ?? value
            }
            var command = CellCommand(
                argv: try fill(argv, values: values, variant: cell.variant), timeoutSeconds: cell.timeoutSeconds,
                params: cell.params, execution: execution)
            let metric = plan.sweep.metric.name
            command.metric = metric == MetricCatalog.defaultName ? nil : metric
            commands[cell.id] = command
        }
        return commands
    }
}
