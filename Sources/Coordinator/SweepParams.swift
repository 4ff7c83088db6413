// SweepParams: reads `params:` (a command's own settings) of the train block or a variant, every problem at its line.
import Foundation
import RunSpec
import Yams

/// The params of one block as read: their values and the entry that wrote each.
struct ParamsBlock {
    var params = CommandParams.none
    /// The `params` key itself; nil when the block has none.
    var entry: SweepEntry?
    /// Each param's entry by name.
    var entries: [String: SweepEntry] = [:]
}

/// `params: {name: value, …}`: values are texts, integers, numbers, bools or lists of them; names follow
/// `CommandParams.nameProblem` and may not be training settings or Ablate's placeholders.
enum SweepParams {
    static let key = "params"

    /// Placeholder names a param may not take: every training setting.
    static let settingKeys = Set(SettingsTable.keys)

    /// Reads a `params` entry; `bad` when any part of it could not be read (the rest is still checked).
    static func read(_ entry: SweepEntry, reader: inout SweepReader) -> (block: ParamsBlock, bad: Bool) {
        var block = ParamsBlock(entry: entry)
        guard let items = reader.entries(of: entry.value, path: entry.path) else { return (block, true) }
        var bad = false
        var values: [String: ParamValue] = [:]
        var upperCased: [String: SweepEntry] = [:]
        for item in items {
            if let problem = CommandParams.nameProblem(item.key)
                ?? CommandParams.clashProblem(item.key, settingKeys: settingKeys)
            {
                reader.report(item, problem)
                bad = true
                continue
            }
            let upper = item.key.uppercased()
            if let other = upperCased[upper] {
                reader.report(item, sameVariableMessage(item.key, other.key, line: other.line))
                bad = true
                continue
            }
            upperCased[upper] = item
            guard let value = value(item.value, path: item.path, reader: &reader) else {
                bad = true
                continue
            }
            values[item.key] = value
            block.entries[item.key] = item
        }
        block.params = CommandParams(values)
        return (block, bad)
    }

    /// The message for two names whose `ABLATE_PARAM_*` variables would be the same.
    static func sameVariableMessage(_ name: String, _ other: String, line: Int) -> String {
        "'\(name)' and '\(other)' (line \(line)) differ only in case; both would be \(CommandParams.environmentName(name))"
    }

    /// A param's value: a scalar, or a list of scalars.
    static func value(_ node: Node, path: String, reader: inout SweepReader) -> ParamValue? {
        if let items = node.sequence {
            var scalars: [ParamScalar] = []
            var bad = false
            for (index, item) in items.enumerated() {
                if let value = scalar(item, path: "\(path)[\(index)]", reader: &reader) {
                    scalars.append(value)
                } else {
                    bad = true
                }
            }
            return bad ? nil : .list(scalars)
        }
        return scalar(node, path: path, reader: &reader).map(ParamValue.scalar)
    }

    /// One scalar by its YAML tag: a bool, an integer, a finite number, or else its text verbatim.
    static func scalar(_ node: Node, path: String, reader: inout SweepReader) -> ParamScalar? {
        guard let scalar = node.scalar else {
            reader.report(
                node, path, "expected a text, number, bool or a list of them, found \(SweepReader.describe(node))")
            return nil
        }
        switch Tag.Name(rawValue: node.tag.rawValue) {
        case .null:
            reader.report(node, path, "expected a text, number, bool or a list of them, found no value")
            return nil
        case .bool:
            if let value = Bool.construct(from: scalar) { return .bool(value) }
        case .int:
            guard let value = Int.construct(from: scalar) else {
                reader.report(node, path, "the integer '\(scalar.string)' is out of range")
                return nil
            }
            return .integer(value)
        case .float:
            guard let value = Double.construct(from: scalar), value.isFinite else {
                reader.report(node, path, "expected a finite number, found '\(scalar.string)'")
                return nil
            }
            return .number(value)
        default:
            break
        }
        guard !scalar.string.unicodeScalars.contains("\u{0}") else {
            reader.report(node, path, "a param's text must not contain a NUL character")
            return nil
        }
        return .text(scalar.string)
    }
}
