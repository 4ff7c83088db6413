// SweepExecution: reads `env`, `workdir`, `resume_file` and `checkpoints` of the train block or a variant, each problem at its line.
import Foundation
import RunSpec
import WireProtocol
import Yams

/// The execution settings of one block as read, with the entries that wrote them.
struct ExecutionBlock {
    var execution = CommandExecution.none
    /// Each execution key of the block by key (`env`, `workdir`, …).
    var entries: [String: SweepEntry] = [:]
    /// Each `env` variable's entry by name.
    var envEntries: [String: SweepEntry] = [:]
}

/// A command's execution settings in a sweep (docs/sweep-format.md); the rules are `ExecutionField`'s, which the
/// worker checks again when it decodes ASSIGN.
enum SweepExecution {
    static let keys: Set<String> = ["env", "workdir", "resume_file", "checkpoints"]

    /// Reads the execution keys among `extras`; `bad` when one could not be read (the others are still checked).
    static func read(_ extras: [SweepEntry], reader: inout SweepReader) -> (block: ExecutionBlock, bad: Bool) {
        var block = ExecutionBlock()
        var bad = false
        for entry in extras where keys.contains(entry.key) {
            block.entries[entry.key] = entry
            switch entry.key {
            case "env":
                guard let env = readEnv(entry, into: &block, reader: &reader) else {
                    bad = true
                    continue
                }
                block.execution.env = env
            case "workdir":
                guard let path = reader.string(entry) else {
                    bad = true
                    continue
                }
                if let problem = ExecutionField.workdirProblem(path) {
                    reader.report(entry, "the directory \(problem)")
                    bad = true
                } else {
                    block.execution.workdir = path
                }
            case "resume_file":
                guard let path = reader.string(entry) else {
                    bad = true
                    continue
                }
                if let problem = ExecutionField.outputPathProblem(path, pattern: false) {
                    reader.report(entry, "'\(PrintableText.oneLine(path, limit: 80))' \(problem)")
                    bad = true
                } else {
                    block.execution.resumeFile = path
                }
            default:
                guard let patterns = readCheckpoints(entry, reader: &reader) else {
                    bad = true
                    continue
                }
                block.execution.checkpoints = patterns
            }
        }
        return (block, bad)
    }

    /// `env: {NAME: value, …}`: names and values by `ExecutionField`; values are texts, numbers or bools, as text.
    static func readEnv(_ entry: SweepEntry, into block: inout ExecutionBlock, reader: inout SweepReader)
        -> [String: String]?
    {
        guard let items = reader.entries(of: entry.value, path: entry.path) else { return nil }
        var env: [String: String] = [:]
        var bad = false
        if items.count > FieldLimits.maxEnvironmentEntries {
            reader.report(
                entry, "lists \(items.count) variables, more than \(FieldLimits.maxEnvironmentEntries)")
            bad = true
        }
        for item in items {
            if let problem = ExecutionField.environmentNameProblem(item.key) {
                reader.report(item, "'\(PrintableText.oneLine(item.key, limit: 80))' \(problem)")
                bad = true
                continue
            }
            guard item.value.scalar != nil, item.value.null == nil else {
                reader.report(item, "expected a text, number or bool, found \(SweepReader.describe(item.value))")
                bad = true
                continue
            }
            guard let scalar = SweepParams.scalar(item.value, path: item.path, reader: &reader) else {
                bad = true
                continue
            }
            let text = scalar.placeholderText
            if let problem = ExecutionField.environmentValueProblem(text) {
                reader.report(item, "the value \(problem)")
                bad = true
                continue
            }
            env[item.key] = text
            block.envEntries[item.key] = item
        }
        return bad ? nil : env
    }

    /// `checkpoints: [pattern, …]`: at most `FieldLimits.maxCheckpointPatterns` relative globs (`ExecutionField`).
    static func readCheckpoints(_ entry: SweepEntry, reader: inout SweepReader) -> [String]? {
        guard let items = reader.sequence(entry) else { return nil }
        var bad = false
        if items.count > FieldLimits.maxCheckpointPatterns {
            reader.report(entry, "lists \(items.count) patterns, more than \(FieldLimits.maxCheckpointPatterns)")
            bad = true
        }
        var patterns: [String] = []
        for (index, item) in items.enumerated() {
            let path = "\(entry.path)[\(index)]"
            guard let scalar = item.scalar, item.null == nil else {
                reader.report(item, path, "expected a text (a glob pattern), found \(SweepReader.describe(item))")
                bad = true
                continue
            }
            if let problem = ExecutionField.outputPathProblem(scalar.string, pattern: true) {
                reader.report(item, path, "'\(PrintableText.oneLine(scalar.string, limit: 80))' \(problem)")
                bad = true
                continue
            }
            patterns.append(scalar.string)
        }
        return bad ? nil : patterns
    }

    /// Checks a variant's resolved execution settings (the `train` block's ← its own): none for the native trainer,
    /// at most `FieldLimits.maxEnvironmentEntries` variables together, and every placeholder of an `env` value one
    /// that the command's arguments could use. Reports at the variant's own entries where it can.
    static func check(
        _ execution: CommandExecution, variant: String, command: [String]?, params: CommandParams,
        own: ExecutionBlock, train: ExecutionBlock, reader: inout SweepReader
    ) -> Bool {
        guard !execution.isEmpty else { return true }
        guard command != nil else {
            let ownKeys = own.entries.values.sorted { $0.line < $1.line }
            for entry in ownKeys { reader.report(entry, "\(entry.key) is passed to commands only; \(nativeHint)") }
            if ownKeys.isEmpty {
                for entry in train.entries.values.sorted(by: { $0.line < $1.line }) {
                    reader.report(
                        entry,
                        "variant '\(variant)' runs the native trainer: \(entry.key) is passed to commands only")
                }
            }
            return false
        }
        var good = true
        if execution.env.count > FieldLimits.maxEnvironmentEntries, let entry = own.entries["env"] {
            reader.report(
                entry,
                "with the train block's env, \(execution.env.count) variables, more than \(FieldLimits.maxEnvironmentEntries)"
            )
            good = false
        }
        for name in execution.env.keys.sorted() {
            guard let value = execution.env[name], let entry = own.envEntries[name] ?? train.envEntries[name] else {
                continue
            }
            for placeholder in SweepVariants.unknownPlaceholders(in: value, params: params) {
                let message = SweepVariants.unknownPlaceholderMessage(placeholder, value)
                reader.report(
                    entry, own.envEntries[name] == nil ? "\(message) (variant '\(variant)')" : message)
                good = false
            }
        }
        return good
    }

    static let nativeHint = "the native trainer runs in the worker itself"
}
