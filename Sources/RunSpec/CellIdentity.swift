// CellIdentity: the text a cell's id is the SHA-256 of — its schema version and the rule that keeps old ids valid.
import Foundation

/// What a cell computes, as one canonical JSON text; the cell id is its SHA-256 (lower-case hex).
///
/// **Schema 1** (every id so far): `{"command":…,"config":…,"dataset":…,"stage1":…}`, keys sorted, no
/// whitespace, where `command` is the command's list of strings or `null`, `config` the settings' canonical JSON
/// (every set setting of `SettingsTable`, keys sorted), `dataset` the dataset content hash and `stage1` the stage-1
/// checkpoint's SHA-256, `cell:<id of the stage-1 job>`, or `null` for the stage-1 job itself. A command cell of a
/// sweep without a dataset has `"dataset":null` (no id of a sweep with a dataset changes).
///
/// **Evolution.** A setting added later carries `since` = the schema it came with and the `identityDefault` that
/// reproduces the behaviour from before it existed: while a cell holds that value the setting is left out of its
/// identity, so adding a setting re-plans no cell of an existing state directory; any other value — including a
/// later change of the setting's default — is part of the text and changes the id. A change of the text's form
/// itself raises `schema`, and a schema above 1 is written into the text as `"schema":N`.
///
/// **Keys added later, left out when empty.** `params` (a command cell's own settings, `CommandParams`) is written
/// as `"params":{…}` (their canonical JSON) only when the cell has params, so every id of a cell without params is
/// the id it had before params existed; every later key (`extras`) follows the same rule. All keys are sorted.
public enum CellIdentity {
    /// The schema of ids this build computes.
    public static let schema = 1

    /// The identity text of a cell (see the type's documentation).
    /// - Parameter extras: keys added after schema 1, each with its canonical JSON (`params`, …); a key is written
    ///   only when present here, so a cell without it keeps the id it had before the key existed. A key of
    ///   schema 1 or `schema` is refused by a precondition (a programming error, not an input).
    /// - Throws: `SettingsError.invalid` when the config has no canonical JSON (a non-finite number): such a
    ///   config has no id, rather than one shared with other configs.
    public static func text(
        config: TrainingConfig, datasetContentHash: String?, stage1: String?, command: [String]?,
        params: CommandParams = .none, extras: [String: String] = [:]
    ) throws(SettingsError) -> String {
        try text(
            settingsJSON: settingsJSON(config, settings: SettingsTable.all), datasetContentHash: datasetContentHash,
            stage1: stage1, command: command, params: params, extras: extras, schema: schema)
    }

    /// The identity text from a settings JSON (for tests of the evolution rule with other tables or schemas).
    static func text(
        settingsJSON: String, datasetContentHash: String?, stage1: String?, command: [String]?,
        params: CommandParams = .none, extras: [String: String] = [:], schema: Int
    ) -> String {
        var fields: [String: String] = [
            "command": command.map { "[" + $0.map { JSONText.quoted($0) }.joined(separator: ",") + "]" } ?? "null",
            "config": settingsJSON,
            "dataset": datasetContentHash.map { JSONText.quoted($0) } ?? "null",
            "stage1": stage1.map { JSONText.quoted($0) } ?? "null",
        ]
        for (key, json) in extras {
            precondition(fields[key] == nil && key != "schema" && key != "params", "identity key \(key) twice")
            fields[key] = json
        }
        if !params.isEmpty { fields["params"] = params.canonicalJSON }
        if schema > 1 { fields["schema"] = String(schema) }
        // Keys sorted by their UTF-8 bytes, as JSONEncoder's .sortedKeys orders ASCII keys.
        let sorted = fields.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return "{" + sorted.map { "\(JSONText.quoted($0)):\(fields[$0] ?? "null")" }.joined(separator: ",") + "}"
    }

    /// The settings' canonical JSON under `settings` (the table, or a test's).
    static func settingsJSON(_ config: TrainingConfig, settings: [Setting]) throws(SettingsError) -> String {
        for setting in settings {
            if case .number(let value) = setting.value(in: config), !value.isFinite {
                let problem = Setting.finiteProblem(setting.key, value) + "; the settings have no JSON form"
                throw .invalid([SettingProblem(key: setting.key, message: problem)])
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(SettingsEncoding(config: config, settings: settings)) else {
            throw .invalid([SettingProblem(key: "stage", message: "the settings have no JSON form")])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether `setting` holding `value` is left out of the identity (a setting newer than schema 1 at the value
    /// that reproduces the behaviour from before it).
    static func omits(_ setting: Setting, value: SettingValue) -> Bool {
        setting.since > 1 && value == setting.identityDefault
    }
}
