// CellIdentityTests: the identity text's form, and the rule that adding a setting keeps existing cell ids.
import Testing

@testable import RunSpec

@Suite struct CellIdentityTests {
    static let dataset = String(repeating: "ab", count: 32)

    @Test func schemaOneText() throws {
        let config = TrainingConfig(stage: .stage2)
        let text = try CellIdentity.text(
            config: config, datasetContentHash: Self.dataset, stage1: "cell:x", command: ["run", "a \"b\"\n"])
        #expect(
            text == "{\"command\":[\"run\",\"a \\\"b\\\"\\u000a\"],\"config\":\(try config.canonicalJSON()),"
                + "\"dataset\":\"\(Self.dataset)\",\"stage1\":\"cell:x\"}")
        #expect(CellIdentity.schema == 1)
        #expect(SettingsTable.all.allSatisfy { $0.since <= CellIdentity.schema })
    }

    /// A setting of a later schema, stored nowhere: its value is `value` in every config.
    static func newSetting(value: Double, identityDefault: Double) -> Setting {
        Setting(
            key: "label_noise", kind: .number, optional: false, help: "", defaultText: "0", since: 2,
            identityDefault: .number(identityDefault), read: { _ in .number(value) }, write: { _, _ in true },
            rule: { _ in nil })
    }

    @Test func addingASettingAtItsIdentityDefaultKeepsTheText() throws {
        let config = TrainingConfig(stage: .stage2)
        let today = try CellIdentity.settingsJSON(config, settings: SettingsTable.all)
        let added = try CellIdentity.settingsJSON(
            config, settings: SettingsTable.all + [Self.newSetting(value: 0, identityDefault: 0)])
        #expect(added == today)
    }

    @Test func anotherValueOrAChangedDefaultChangesTheText() throws {
        let config = TrainingConfig(stage: .stage2)
        let today = try CellIdentity.settingsJSON(config, settings: SettingsTable.all)
        // The cell sets the new setting: it computes something else.
        let set = try CellIdentity.settingsJSON(
            config, settings: SettingsTable.all + [Self.newSetting(value: 0.1, identityDefault: 0)])
        #expect(set != today)
        #expect(set.contains("\"label_noise\":0.1"))
        // A later build changes the setting's default to 0.2: cells that take the default now compute something
        // else, and their ids change with it.
        let changedDefault = try CellIdentity.settingsJSON(
            config, settings: SettingsTable.all + [Self.newSetting(value: 0.2, identityDefault: 0)])
        #expect(changedDefault != today)
    }

    @Test func aLaterSchemaIsWrittenIntoTheText() {
        let one = CellIdentity.text(
            settingsJSON: "{}", datasetContentHash: Self.dataset, stage1: nil, command: nil, schema: 1)
        let two = CellIdentity.text(
            settingsJSON: "{}", datasetContentHash: Self.dataset, stage1: nil, command: nil, schema: 2)
        #expect(!one.contains("schema"))
        #expect(two == "{\"command\":null,\"config\":{},\"dataset\":\"\(Self.dataset)\",\"schema\":2,\"stage1\":null}")
    }

    @Test func aNonFiniteNumberHasNoIdentity() {
        var config = TrainingConfig(stage: .stage2)
        config.gamma = .infinity
        #expect(throws: SettingsError.self) {
            try CellIdentity.text(config: config, datasetContentHash: Self.dataset, stage1: nil, command: nil)
        }
    }

    @Test func readableStyleShortensCommonControls() {
        #expect(JSONText.quoted("a\nb\t\u{1}") == "\"a\\u000ab\\u0009\\u0001\"")
        #expect(JSONText.quoted("a\nb\t\u{1}", style: .readable) == "\"a\\nb\\t\\u0001\"")
    }
}
