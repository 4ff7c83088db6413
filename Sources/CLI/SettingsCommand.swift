// SettingsCommand: `ablate settings`, every run setting from the settings table — what a sweep or flag may set.
import ArgumentParser
import RunSpec

/// Lists the run settings: key, type, default, the losses that use it, meaning.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "List every training setting (run files, sweeps, `ablate train` flags, command placeholders).")

    @Flag(help: "Print the Markdown table of docs/training.md.") var markdown = false

    func run() {
        if markdown {
            print(SettingsDocs.markdown())
            return
        }
        let width = (SettingsTable.all.map(\.key.count).max() ?? 0) + 2
        for setting in SettingsTable.all {
            let key = setting.key.padding(toLength: width, withPad: " ", startingAt: 0)
            let users = setting.losses.map { " Used by \($0.joined(separator: ", "))." } ?? ""
            print("\(key)\(SettingsHelp.valueName(setting)) (default \(setting.defaultText))")
            print(String(repeating: " ", count: width) + setting.help + users)
        }
    }
}
