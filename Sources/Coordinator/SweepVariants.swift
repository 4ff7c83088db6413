// SweepVariants: reads a sweep's variants (name + overrides over the shared settings) and checks them together.
import Foundation
import RunSpec
import Yams

enum SweepVariants {
    /// Keys of a variant besides training settings.
    static let extraKeys: Set<String> = Set([
        "command", "timeout_s", SweepParams.key, SweepCode.key, SweepInputs.key,
    ]).union(
        SweepExecution.keys)

    static let forbidden = [
        "stage": "set the cells' stage once, at the top level (stage:)",
        "seed": "seeds come from the top-level seeds list",
    ]

    /// Reads the `variants` mapping: `parts.variants` gets the variants that could be read.
    static func read(_ entry: SweepEntry, into parts: inout SweepParts, reader: inout SweepReader) {
        guard let entries = reader.entries(of: entry.value, path: entry.path) else { return }
        parts.variantNames = entries.map(\.key)
        guard !entries.isEmpty else {
            reader.report(entry, "must list at least one variant")
            return
        }
        // Ordinary variants first, so that a replica may name a variant written after it.
        var read: [String: (variant: SweepVariant, entry: SweepEntry)] = [:]
        var replicas: [String: SweepEntry] = [:]
        for item in entries {
            if let source = SweepReplicas.sourceEntry(of: item) {
                replicas[item.key] = source
            } else if let variant = readVariant(item, parts: parts, reader: &reader) {
                // A variant that cannot be read has reported why; the others are still checked together.
                read[item.key] = (variant, item)
            }
        }
        var variants: [SweepVariant] = []
        for item in entries {
            if let source = replicas[item.key] {
                if let variant = SweepReplicas.read(
                    item, source: source, names: entries.map(\.key), variants: read.mapValues(\.variant),
                    replicas: replicas, reader: &reader)
                {
                    variants.append(variant)
                    parts.variantEntries.append(item)
                }
            } else if let held = read[item.key] {
                variants.append(held.variant)
                parts.variantEntries.append(held.entry)
            }
        }
        parts.variants = variants
    }

    static func readVariant(_ entry: SweepEntry, parts: SweepParts, reader: inout SweepReader) -> SweepVariant? {
        var bad = false
        if !checkName(entry, reader: &reader) { bad = true }
        guard
            let block = SweepSettings.readBlock(
                entry.value, path: entry.path, stage: parts.stage, extras: extraKeys, forbidden: forbidden,
                reader: &reader)
        else { return nil }
        let own = readExtras(block.extras, inherited: parts.trainParams, directory: parts.directory, reader: &reader)
        bad = bad || own.bad
        let command = own.command ?? parts.defaultCommand
        let timeout = own.timeoutSeconds ?? parts.defaultTimeoutSeconds
        let params = parts.trainParams.params.overridden(by: own.params.params)
        let code = own.codeEntry != nil ? own.code : parts.defaultCode
        if command == nil, let codeEntry = own.codeEntry ?? parts.defaultCodeEntry {
            let owner = own.codeEntry == nil ? "variant '\(entry.key)' runs the native trainer: " : ""
            reader.report(codeEntry, owner + SweepCode.nativeMessage)
            bad = true
        }
        let inputs = SweepInputs.merged(parts.trainInputs.inputs, own.inputs.inputs)
        if command == nil, !inputs.isEmpty, let inputsEntry = own.inputs.entry ?? parts.trainInputs.entry {
            let owner = own.inputs.entry == nil ? "variant '\(entry.key)' runs the native trainer: " : ""
            reader.report(inputsEntry, owner + SweepInputs.nativeMessage)
            bad = true
        }
        let execution = parts.trainExecution.execution.overridden(by: own.execution.execution)
        if !SweepExecution.check(
            execution, variant: entry.key, command: command, params: params, own: own.execution,
            train: parts.trainExecution, reader: &reader)
        {
            bad = true
        }
        if !checkParams(
            params, variant: entry.key, command: command, own: own.params, train: parts.trainParams, reader: &reader)
        {
            bad = true
        }
        guard
            let (resolved, valid) = SweepSettings.resolve(
                stage: parts.stage, layers: [parts.train.settings, block.settings],
                fallback: (entry.keyNode, entry.path), reader: &reader)
        else { return nil }
        for unused in SweepSettings.unusedLossParameters(block.settings, config: resolved) {
            reader.report(unused, "does not apply to loss '\(resolved.loss)'")
            bad = true
        }
        guard valid, !bad else { return nil }
        var config = resolved
        config.seed = 0
        let overrides = block.settings.map { SettingOverride(key: $0.key, value: SweepParser.valueText($0.value)) }
        return SweepVariant(
            name: entry.key, overrides: overrides, config: config, command: command, timeoutSeconds: timeout,
            params: params, code: code, execution: execution, inputs: inputs)
    }

    /// The message for params of a variant that runs the native trainer.
    static let nativeParamsMessage =
        "params are passed to commands only; the native trainer's settings are listed by `ablate settings`"

    /// Checks a variant's resolved params (the `train` block's ← its own): none for the native trainer, no two
    /// names with the same `ABLATE_PARAM_*` variable. Reports at the variant's own `params` entries where it can.
    static func checkParams(
        _ params: CommandParams, variant: String, command: [String]?, own: ParamsBlock, train: ParamsBlock,
        reader: inout SweepReader
    ) -> Bool {
        guard !params.isEmpty else { return true }
        guard command != nil else {
            if let entry = own.entry {
                reader.report(entry, nativeParamsMessage)
            } else if let entry = train.entry {
                reader.report(entry, "variant '\(variant)' runs the native trainer: \(nativeParamsMessage)")
            }
            return false
        }
        var good = true
        var byVariable: [String: String] = [:]
        for name in params.names {
            let variable = CommandParams.environmentName(name)
            if let other = byVariable[variable], let entry = own.entries[name] ?? own.entries[other] {
                let otherName = entry.key == name ? other : name
                let otherLine = (train.entries[otherName] ?? own.entries[otherName])?.line ?? 0
                reader.report(entry, SweepParams.sameVariableMessage(entry.key, otherName, line: otherLine))
                good = false
            }
            byVariable[variable] = name
        }
        return good
    }

    /// Whether a variant's name is allowed; reports why not.
    static func checkName(_ entry: SweepEntry, reader: inout SweepReader) -> Bool {
        if !SweepReader.isSafeName(entry.key) {
            reader.report(entry, "a variant name must use only letters, digits, '.', '_' and '-'")
            return false
        }
        if entry.key == SweepPlan.stage1VariantName {
            reader.report(entry, "'\(entry.key)' is reserved for the stage-1 job")
            return false
        }
        return true
    }

    /// `command`, `timeout_s` and `params` of a variant or of the `train` block.
    struct Extras {
        var command: [String]?
        var commandEntry: SweepEntry?
        var timeoutSeconds: Double?
        var params = ParamsBlock()
        /// `code` (`SweepCode`) and where it is written; `code` is nil when absent or unreadable.
        var code: CodeSpec?
        var codeEntry: SweepEntry?
        /// `env`, `workdir`, `resume_file` and `checkpoints` (`SweepExecution`).
        var execution = ExecutionBlock()
        /// `inputs` (`SweepInputs`).
        var inputs = InputsBlock()
        /// Whether one of them could not be read.
        var bad = false
    }

    /// Reads `command`, `timeout_s` and `params` of a variant or of the `train` block. A variant's command
    /// (`inherited`: the `train` block's params) has its placeholders checked here against the settings and the
    /// variant's params; the `train` block's (`inherited` nil) is checked once the variants are read
    /// (`checkDefaultCommand`), since each variant may add params.
    static func readExtras(
        _ extras: [SweepEntry], inherited: ParamsBlock?, directory: String, reader: inout SweepReader
    ) -> Extras {
        var out = Extras()
        for extra in extras where extra.key == SweepInputs.key {
            let read = SweepInputs.read(extra, directory: directory, reader: &reader)
            out.inputs = read.block
            out.bad = out.bad || read.bad
        }
        for extra in extras where extra.key == SweepParams.key {
            let read = SweepParams.read(extra, reader: &reader)
            out.params = read.block
            out.bad = out.bad || read.bad
        }
        for extra in extras where extra.key == SweepCode.key {
            out.code = SweepCode.read(extra, reader: &reader)
            out.codeEntry = extra
            out.bad = out.bad || out.code == nil
        }
        let execution = SweepExecution.read(extras, reader: &reader)
        out.execution = execution.block
        out.bad = out.bad || execution.bad
        for extra in extras
        where extra.key != SweepParams.key && extra.key != SweepCode.key && extra.key != SweepInputs.key
            && !SweepExecution.keys.contains(extra.key)
        {
            if extra.key == "command" {
                out.command = reader.stringList(extra)
                out.commandEntry = extra
                if let argv = out.command, let inherited {
                    let params = inherited.params.overridden(by: out.params.params)
                    for argument in argv {
                        for name in unknownPlaceholders(in: argument, params: params) {
                            reader.report(extra, unknownPlaceholderMessage(name, argument))
                            out.bad = true
                        }
                    }
                }
                out.bad = out.bad || out.command == nil
            } else if let seconds = reader.number(extra) {
                if seconds > 0 {
                    out.timeoutSeconds = seconds
                } else {
                    reader.report(extra, "\(seconds) must be positive")
                    out.bad = true
                }
            } else {
                out.bad = true
            }
        }
        return out
    }

    /// Every placeholder a command may use besides params: the coordinator's, the worker's and every training setting.
    static let placeholderNames: Set<String> = Set(["seed", "variant"] + SweepSettings.knownKeys).union(
        CommandPlaceholders.workerFilled)

    /// The placeholder names of `argument` that neither Ablate nor `params` fill.
    static func unknownPlaceholders(in argument: String, params: CommandParams) -> [String] {
        CommandPlaceholderText.names(in: argument).filter { !placeholderNames.contains($0) && params.values[$0] == nil }
    }

    static func unknownPlaceholderMessage(_ name: String, _ argument: String) -> String {
        "unknown placeholder {\(name)} in '\(argument)'; use {seed}, {variant}, {out}, {gpu}, a training setting or a param"
    }

    /// Checks the `train` block's command against the params of each variant that runs it: a name that is no
    /// param of any of them is an unknown placeholder; one that some of them lack names those.
    static func checkDefaultCommand(_ parts: SweepParts, reader: inout SweepReader) {
        guard let argv = parts.defaultCommand, let entry = parts.defaultCommandEntry, let variants = parts.variants
        else { return }
        let users = variants.filter { $0.replicaOf == nil && $0.command == argv }
        for argument in argv {
            for name in CommandPlaceholderText.names(in: argument) where !placeholderNames.contains(name) {
                let lacking = users.filter { $0.params.values[name] == nil }.map(\.name)
                if lacking.count == users.count {
                    reader.report(entry, unknownPlaceholderMessage(name, argument))
                } else if !lacking.isEmpty {
                    reader.report(
                        entry,
                        "placeholder {\(name)} in '\(argument)' is no param of variant \(lacking.joined(separator: ", "))"
                    )
                }
            }
        }
    }

    /// Checks across variants: no two resolve to the same cells (a replica's cells differ from its source's by their
    /// seeds), and a stage-1 job builds the backbone width the cells use.
    static func crossCheck(_ parts: SweepParts, reader: inout SweepReader) {
        guard let variants = parts.variants else { return }
        let entries = parts.variantEntries
        for later in variants.indices where variants[later].replicaOf == nil {
            for earlier in 0..<later
            where variants[earlier].replicaOf == nil && variants[earlier].config == variants[later].config
                && variants[earlier].command == variants[later].command
                && variants[earlier].params == variants[later].params
                && variants[earlier].execution.env == variants[later].execution.env
                && variants[earlier].inputs.map(\.path) == variants[later].inputs.map(\.path)
                && variants[earlier].inputs.map(\.name) == variants[later].inputs.map(\.name)
            {
                reader.report(
                    entries[later],
                    "resolves to the same settings as variant '\(variants[earlier].name)' (line \(entries[earlier].line));"
                        + " their cells would be the same")
                break
            }
        }
        guard case .train(let stage1)? = parts.stage1, let stage1Entry = parts.stage1Entry else { return }
        let mismatched = variants.filter { $0.replicaOf == nil && $0.config.width != stage1.width }
        guard !mismatched.isEmpty else { return }
        let widths = Set(mismatched.map(\.config.width)).sorted().map(String.init).joined(separator: ", ")
        let names = mismatched.map(\.name).joined(separator: ", ")
        let message =
            "the stage-1 job's width \(stage1.width) differs from width \(widths) of variants \(names);"
            + " set width in stage1 as well"
        if let widthEntry = parts.stage1Settings.last(where: { $0.key == "width" }) {
            reader.report(widthEntry, message)
        } else {
            reader.report(stage1Entry, message)
        }
    }
}
