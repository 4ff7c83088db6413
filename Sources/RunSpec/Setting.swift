// Setting: one run setting as data — key, type, default, range, the losses that use it, help — with its access.
import Foundation

/// The value of one setting, in the types run files know.
public enum SettingValue: Sendable, Equatable {
    case integer(Int)
    case number(Double)
    case seed(UInt64)
    case integers([Int])
    case text(String)
}

/// One setting of `TrainingConfig`. The `SettingsTable` lists them all; decoding, encoding, validation, sweep
/// checks, `ablate train`'s flags, command placeholders and the settings section of docs/training.md all come from
/// it.
public struct Setting: Sendable {
    /// The value type, as the settings table documents it.
    public enum Kind: Sendable, Equatable {
        case integer
        case number
        /// A non-negative 64-bit integer.
        case seed
        /// A list of integers (a flag takes them comma-separated).
        case integers
        /// One of the listed words.
        case choice([String])
        /// Free text checked by a rule (the loss name).
        case text
    }

    /// The key in run files, sweeps and `{placeholders}`; the flag is `--` + the key with `_` as `-`.
    public let key: String
    public let kind: Kind
    /// Whether the setting may be unset (`null`): the loss's or the stage's own value applies.
    public let optional: Bool
    /// One line for `--help` and the docs.
    public let help: String
    /// The default as the docs show it (per stage where it differs).
    public let defaultText: String
    /// For a loss parameter: the losses that use it (see `LossTable`); nil for a setting of every run.
    public var losses: [String]? {
        let users = LossTable.entries.filter { LossTable.uses(key, loss: $0.name) }.map(\.name)
        return LossTable.parameterKeys.contains(key) ? users : nil
    }
    /// The cell-id schema the setting appeared in (see `CellIdentity`). A setting newer than schema 1 is left out
    /// of a cell's identity while it holds `identityDefault`, the value that reproduces the behaviour from before
    /// it existed, so adding it changes no existing cell id.
    public let since: Int
    /// See `since`; nil for a setting of schema 1 (always part of the identity when set).
    public let identityDefault: SettingValue?

    let read: @Sendable (TrainingConfig) -> SettingValue?
    let write: @Sendable (inout TrainingConfig, SettingValue?) -> Bool
    let rule: @Sendable (TrainingConfig) -> String?

    /// The `--flag` of `ablate train`.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The value in `config`, nil when unset.
    public func value(in config: TrainingConfig) -> SettingValue? { read(config) }

    /// Sets the value (nil unsets an optional setting); false when the value has the wrong type or is not allowed.
    public func set(_ value: SettingValue?, in config: inout TrainingConfig) -> Bool { write(&config, value) }

    /// The problem of this setting in `config`, nil when its value is allowed.
    public func problem(in config: TrainingConfig) -> SettingProblem? {
        rule(config).map { SettingProblem(key: key, message: $0) }
    }

    /// Parses a flag's text into a value of this setting's kind; nil when it does not parse.
    public func parse(_ text: String) -> SettingValue? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .integer: return Int(trimmed).map(SettingValue.integer)
        case .number: return Double(trimmed).map(SettingValue.number)
        case .seed: return UInt64(trimmed).map(SettingValue.seed)
        case .integers:
            let parts = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = parts.compactMap { Int($0.hasPrefix("layer") ? String($0.dropFirst(5)) : $0) }
            return values.count == parts.count && !values.isEmpty ? .integers(values) : nil
        case .choice(let words): return words.contains(trimmed) ? .text(trimmed) : nil
        case .text: return .text(trimmed)
        }
    }

    /// What a flag or key expects, for messages: `an integer`, `eval or train` ….
    public var expected: String {
        switch kind {
        case .integer: "an integer"
        case .number: "a number"
        case .seed: "a non-negative integer"
        case .integers: "comma-separated integers, e.g. 3,4"
        case .choice(let words): words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "")
        case .text: "a text value"
        }
    }
}

// MARK: - Constructors over the config's stored properties

extension Setting {
    typealias Path<Value> = WritableKeyPath<TrainingConfig, Value> & Sendable

    static func integer(
        _ key: String, _ path: Path<Int>, default defaultText: String, help: String,
        rule: @escaping @Sendable (Int, TrainingConfig) -> String? = { _, _ in nil }
    ) -> Setting {
        Setting(
            key: key, kind: .integer, optional: false, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil, read: { .integer($0[keyPath: path]) },
            write: { config, value in
                guard case .integer(let v) = value else { return false }
                config[keyPath: path] = v
                return true
            }, rule: { rule($0[keyPath: path], $0) })
    }

    static func optionalInteger(_ key: String, _ path: Path<Int?>, default defaultText: String, help: String) -> Setting
    {
        Setting(
            key: key, kind: .integer, optional: true, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil, read: { $0[keyPath: path].map(SettingValue.integer) },
            write: { config, value in
                switch value {
                case .none: config[keyPath: path] = nil
                case .integer(let v): config[keyPath: path] = v
                default: return false
                }
                return true
            }, rule: { _ in nil })
    }

    /// A number that must be finite, and satisfy `rule` when it is.
    static func number(
        _ key: String, _ path: Path<Double>, default defaultText: String, help: String,
        rule: @escaping @Sendable (Double) -> String? = { _ in nil }
    ) -> Setting {
        Setting(
            key: key, kind: .number, optional: false, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil, read: { .number($0[keyPath: path]) },
            write: { config, value in
                switch value {
                case .number(let v): config[keyPath: path] = v
                case .integer(let v): config[keyPath: path] = Double(v)
                default: return false
                }
                return true
            },
            rule: { config in
                let value = config[keyPath: path]
                return value.isFinite ? rule(value) : finiteProblem(key, value)
            })
    }

    /// An optional number (a loss parameter): finite when set.
    static func optionalNumber(_ key: String, _ path: Path<Double?>, default defaultText: String, help: String)
        -> Setting
    {
        Setting(
            key: key, kind: .number, optional: true, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil, read: { $0[keyPath: path].map(SettingValue.number) },
            write: { config, value in
                switch value {
                case .none: config[keyPath: path] = nil
                case .number(let v): config[keyPath: path] = v
                case .integer(let v): config[keyPath: path] = Double(v)
                default: return false
                }
                return true
            },
            rule: { config in
                guard let value = config[keyPath: path], !value.isFinite else { return nil }
                return finiteProblem(key, value)
            })
    }

    static func seed(_ key: String, _ path: Path<UInt64>, default defaultText: String, help: String) -> Setting {
        Setting(
            key: key, kind: .seed, optional: false, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil, read: { .seed($0[keyPath: path]) },
            write: { config, value in
                switch value {
                case .seed(let v): config[keyPath: path] = v
                case .integer(let v) where v >= 0: config[keyPath: path] = UInt64(v)
                default: return false
                }
                return true
            }, rule: { _ in nil })
    }

    static func integers(
        _ key: String, _ path: Path<[Int]>, default defaultText: String, help: String,
        rule: @escaping @Sendable ([Int], TrainingConfig) -> String?
    ) -> Setting {
        Setting(
            key: key, kind: .integers, optional: false, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil, read: { .integers($0[keyPath: path]) },
            write: { config, value in
                guard case .integers(let v) = value else { return false }
                config[keyPath: path] = v
                return true
            }, rule: { rule($0[keyPath: path], $0) })
    }

    /// A setting stored as a `String`-backed enum.
    static func choice<E: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ path: Path<E>, default defaultText: String, help: String
    ) -> Setting where E.RawValue == String {
        Setting(
            key: key, kind: .choice(E.allCases.map(\.rawValue)), optional: false, help: help, defaultText: defaultText,
            since: 1, identityDefault: nil, read: { .text($0[keyPath: path].rawValue) },
            write: { config, value in
                guard case .text(let word) = value, let v = E(rawValue: word) else { return false }
                config[keyPath: path] = v
                return true
            }, rule: { _ in nil })
    }

    static func text(
        _ key: String, _ path: Path<String>, default defaultText: String, help: String,
        rule: @escaping @Sendable (String) -> String?
    ) -> Setting {
        Setting(
            key: key, kind: .text, optional: false, help: help, defaultText: defaultText, since: 1,
            identityDefault: nil,
            read: { .text($0[keyPath: path]) },
            write: { config, value in
                guard case .text(let v) = value else { return false }
                config[keyPath: path] = v
                return true
            }, rule: { rule($0[keyPath: path]) })
    }

    static func finiteProblem(_ key: String, _ value: Double) -> String {
        "\(key) must be a finite number, found \(value)"
    }
}
