// SweepVariants: reads a sweep's variants (name + overrides over the shared settings) and checks them together.
import Foundation
import RunSpec
import Yams

enum SweepVariants {
    /// Keys of a variant besides training settings.
    static let extraKeys: Set<String> = ["command", "timeout_s"]

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
        let own = readExtras(block.extras, reader: &reader)
        bad = bad || own.bad
        let command = own.command ?? parts.defaultCommand
        let timeout = own.timeoutSeconds ?? parts.defaultTimeoutSeconds
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
            name: entry.key, overrides: overrides, config: config, command: command, timeoutSeconds: timeout)
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

    /// Reads `command` and `timeout_s` of a variant or of the `train` block; `bad` when one could not be read.
    static func readExtras(_ extras: [SweepEntry], reader: inout SweepReader) -> (command: [String]?, timeoutSeconds: Double?, bad: Bool) {
        var command: [String]?
        var timeout: Double?
        var bad = false
        for extra in extras {
            if extra.key == "command" {
                command = reader.stringList(extra)
                if let argv = command {
                    for argument in argv {
                        for name in CommandPlaceholderText.names(in: argument) where !placeholderNames.contains(name) {
                            reader.report(extra, "unknown placeholder {\(name)} in '\(argument)'; use {seed}, {variant}, {out}, {gpu} or a training setting")
                            bad = true
                        }
                    }
                }
                bad = bad || command == nil
            } else if let seconds = reader.number(extra) {
                if seconds > 0 {
                    timeout = seconds
                } else {
                    reader.report(extra, "\(seconds) must be positive")
                    bad = true
                }
            } else {
                bad = true
            }
        }
        return (command, timeout, bad)
    }

    /// Every placeholder a command may use: the coordinator's, the worker's and every training setting.
    static let placeholderNames: Set<String> = Set(["seed", "variant"] + SweepSettings.knownKeys).union(CommandPlaceholders.workerFilled)

    /// Checks across variants: no two resolve to the same cells (a replica's cells differ from its source's by their
    /// seeds), and a stage-1 job builds the backbone width the cells use.
    static func crossCheck(_ parts: SweepParts, reader: inout SweepReader) {
        guard let variants = parts.variants else { return }
        let entries = parts.variantEntries
        for later in variants.indices where variants[later].replicaOf == nil {
            for earlier in 0..<later
            where variants[earlier].replicaOf == nil && variants[earlier].config == variants[later].config && variants[earlier].command == variants[later].command {
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
