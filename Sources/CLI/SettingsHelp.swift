// SettingsHelp: `ablate train`'s setting flags, generated from the settings table — their help and their parsing.
import RunSpec

/// Every setting of `SettingsTable` is a flag `--key-with-dashes VALUE` (or `--key=VALUE`) of `ablate train`.
enum SettingsHelp {
    /// The flags with their value, default and help, two short lines each, for `--help`.
    static var flagList: String {
        "Setting flags (each overrides the run file; defaults are the stage's research protocol):\n"
            + SettingsTable.all.filter { $0.key != "stage" }.map { setting in
                "  \(setting.flag) \(valueName(setting))  (default \(setting.defaultText))\n      \(setting.help)"
            }.joined(separator: "\n")
    }

    /// The value's name in the flag list: `<int>`, `<number>`, `<eval|train>` ….
    static func valueName(_ setting: Setting) -> String {
        switch setting.kind {
        case .integer: "<int>"
        case .number: "<number>"
        case .seed: "<uint64>"
        case .integers: "<int,int,…>"
        case .choice(let words): "<\(words.joined(separator: "|"))>"
        case .text: "<name>"
        }
    }

    /// The settings given as flags, in order.
    /// - Throws: `RunFailure` naming the flag for an unknown flag, a missing value or one that does not parse.
    static func parseFlags(_ arguments: [String]) throws -> [(Setting, SettingValue)] {
        var result: [(Setting, SettingValue)] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw RunFailure(message: "unexpected argument '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var text: String?
            if let equals = name.firstIndex(of: "=") {
                text = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            let key = name.replacingOccurrences(of: "-", with: "_")
            guard let setting = SettingsTable.setting(key), key != "stage" else {
                throw RunFailure(message: "unknown option '--\(name)' (the settings are listed in --help)")
            }
            if text == nil {
                index += 1
                guard index < arguments.count else {
                    throw RunFailure(message: "\(setting.flag): missing value (\(setting.expected))")
                }
                text = arguments[index]
            }
            let given = text ?? ""
            guard let value = setting.parse(given) else {
                throw RunFailure(message: "\(setting.flag) \(given): expected \(setting.expected)")
            }
            result.append((setting, value))
            index += 1
        }
        return result
    }
}
