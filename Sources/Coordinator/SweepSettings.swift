// SweepSettings: checks and resolves a sweep's training settings through the settings table and TrainingConfig's decoder.
import Foundation
import RunSpec
import Yams

/// A block of training settings (the `train` block, one variant, the `stage1` block) whose keys each passed
/// TrainingConfig's decoder on their own, plus the block's non-training keys.
struct SettingsBlock {
    var settings: [SweepEntry] = []
    var extras: [SweepEntry] = []
}

/// Training settings of a sweep. Every key is checked by decoding it alone over the stage's defaults with
/// TrainingConfig's decoder, so the key names, types and enum values are exactly those of run files.
enum SweepSettings {
    /// Every setting's key (`SettingsTable`), sorted; used for suggestions.
    static let knownKeys: [String] = SettingsTable.keys.sorted()

    /// Keys that parameterise a loss; a variant setting one its loss ignores is a mistake worth reporting.
    static let lossParameterKeys = LossTable.parameterKeys

    /// Allowed values of the enumerated settings, for messages.
    static let valueHints: [String: String] = Dictionary(
        uniqueKeysWithValues: SettingsTable.all.compactMap { setting in
            if case .choice = setting.kind { return (setting.key, setting.expected) }
            return nil
        })

    /// Reads a block: `forbidden` keys get their message, `extras` are kept apart, every other key is checked.
    static func readBlock(
        _ node: Node, path: String, stage: Stage, extras: Set<String>, forbidden: [String: String],
        reader: inout SweepReader
    ) -> SettingsBlock? {
        guard let entries = reader.entries(of: node, path: path) else { return nil }
        var block = SettingsBlock()
        for entry in entries {
            if let why = forbidden[entry.key] {
                reader.report(entry, why)
            } else if extras.contains(entry.key) {
                block.extras.append(entry)
            } else if check(entry, stage: stage, reader: &reader) {
                block.settings.append(entry)
            }
        }
        return block
    }

    /// Whether one setting decodes over the stage's defaults; reports why not.
    static func check(_ entry: SweepEntry, stage: Stage, reader: inout SweepReader) -> Bool {
        do {
            _ = try decode(stage: stage, [(entry.keyNode, entry.value)])
            return true
        } catch is SettingsError {
            reader.reportUnknown(entry, known: knownKeys, what: "not a training setting")
        } catch {
            reader.report(entry, message(for: error, entry: entry))
        }
        return false
    }

    /// The config of `stage`'s defaults with `pairs` applied in order (a later pair with the same key wins).
    static func decode(stage: Stage, _ pairs: [(Node, Node)]) throws -> TrainingConfig {
        var merged: [(Node, Node)] = [(Node("stage"), Node(stage.rawValue))]
        var index: [String: Int] = [:]
        for (key, value) in pairs {
            let name = key.scalar?.string ?? ""
            if let at = index[name] {
                merged[at] = (key, value)
            } else {
                index[name] = merged.count
                merged.append((key, value))
            }
        }
        return try YAMLDecoder().decode(TrainingConfig.self, from: Node(merged))
    }

    /// Resolves `layers` (each already checked) over the stage's defaults and reports what
    /// `TrainingConfig.validate()` finds at the key in the last layer that sets it, else at `fallback`.
    /// Returns the config (nil if it does not decode) and whether it passed validation.
    static func resolve(
        stage: Stage, layers: [[SweepEntry]], fallback: (node: Node, path: String), reader: inout SweepReader
    ) -> (config: TrainingConfig, valid: Bool)? {
        let config: TrainingConfig
        do {
            config = try decode(stage: stage, layers.flatMap { $0.map { ($0.keyNode, $0.value) } })
        } catch {
            reader.report(fallback.node, fallback.path, "\(error)")
            return nil
        }
        let problems = config.problems()
        for problem in problems {
            if let entry = layers.reversed().lazy.compactMap({ $0.last { $0.key == problem.key } }).first {
                reader.report(entry, problem.message)
            } else {
                reader.report(fallback.node, fallback.path, problem.message)
            }
        }
        if !problems.isEmpty { return (config, false) }
        return (config, true)
    }

    /// The loss parameters among `entries` that `config`'s loss does not use.
    static func unusedLossParameters(_ entries: [SweepEntry], config: TrainingConfig) -> [SweepEntry] {
        entries.filter { lossParameterKeys.contains($0.key) && !LossTable.uses($0.key, loss: config.loss) }
    }

    /// A decoding error of one setting in words.
    static func message(for error: Error, entry: SweepEntry) -> String {
        let found = SweepReader.describe(entry.value)
        switch error {
        case DecodingError.typeMismatch(let type, _):
            return "expected \(typeName(type)), found \(found)"
        case DecodingError.dataCorrupted:
            let hint = valueHints[entry.key].map { " (expected \($0))" } ?? ""
            return "invalid value \(found)\(hint)"
        case DecodingError.valueNotFound(let type, _):
            return "expected \(typeName(type)), found \(found)"
        default:
            return "invalid value \(found): \(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch ObjectIdentifier(type) {
        case ObjectIdentifier(Int.self): "an integer"
        case ObjectIdentifier(UInt64.self): "a non-negative integer"
        case ObjectIdentifier(Double.self): "a number"
        case ObjectIdentifier(String.self): "a text value"
        case ObjectIdentifier(Bool.self): "true or false"
        case ObjectIdentifier(Node.Sequence.self): "a list"
        case ObjectIdentifier(Node.Mapping.self): "a mapping"
        default: "a single value"
        }
    }
}
