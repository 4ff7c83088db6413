// SettingsTableTests: the settings table covers every stored setting, decodes and encodes it, and types problems.
import Foundation
import Testing

@testable import RunSpec

@Suite struct SettingsTableTests {
    /// A config with every setting away from its default (and every optional one set).
    static func everythingSet() -> TrainingConfig {
        var config = TrainingConfig(stage: .stage3AB)
        config.width = 32
        config.adapterReduction = 8
        config.adapterLayers = [2, 4]
        config.loss = "asymmetric"
        config.gamma = 1.5
        config.beta = 0.999
        config.epsilon = 0.5
        config.gammaPositive = 1
        config.gammaNegative = 3
        config.smoothing = 0.05
        config.backboneBN = .train
        config.epochs = 7
        config.batchSize = 64
        config.lrAdapter = 2e-3
        config.lrHead = 3e-4
        config.lrBackbone = 5e-5
        config.weightDecay = 0.02
        config.schedulerFactor = 0.25
        config.schedulerPatience = 2
        config.schedulerThreshold = 1e-3
        config.earlyStoppingPatience = 9
        config.sampler = .shuffle
        config.seed = UInt64.max
        config.threads = 3
        config.maxTrainRows = 100
        config.maxValRows = 50
        return config
    }

    @Test func everyStoredSettingIsInTheTable() throws {
        // A property missing from the table would be lost by encoding: the round trip would not be equal.
        let config = Self.everythingSet()
        let json = try config.canonicalJSON()
        #expect(try TrainingConfig.fromJSON(json) == config)
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys
        #expect(keys.sorted() == SettingsTable.keys.sorted())
        #expect(Set(SettingsTable.keys).count == SettingsTable.all.count, "a key is listed twice")
        // Every setting's value differs from the stage default here, so each one's write path was exercised.
        let defaults = TrainingConfig(stage: .stage3AB)
        for setting in SettingsTable.all where setting.key != "stage" {
            #expect(setting.value(in: config) != setting.value(in: defaults), "\(setting.key)")
        }
    }

    @Test func unknownKeysAreNamed() {
        #expect(throws: SettingsError.unknownKeys(["lr", "widht"])) {
            try TrainingConfig.fromJSON(#"{"stage":"2","widht":32,"lr":1}"#)
        }
    }

    @Test func nullKeepsTheDefault() throws {
        let config = try TrainingConfig.fromJSON(#"{"stage":"1","width":null,"gamma":null}"#)
        #expect(config == TrainingConfig(stage: .stage1))
    }

    @Test func aBadChoiceIsADecodingError() {
        #expect(throws: DecodingError.self) { try TrainingConfig.fromJSON(#"{"stage":"2","backbone_bn":"frozen"}"#) }
    }

    @Test func problemsAreTypedByKey() {
        var config = TrainingConfig(stage: .stage2)
        config.width = 20
        config.lrHead = -1
        config.gamma = .infinity
        config.loss = "hinge"
        config.threads = 0
        let problems = config.problems()
        #expect(problems.map(\.key) == ["width", "loss", "gamma", "lr_head", "threads"])
        #expect(problems[0].message == "width 20 must be a positive multiple of 16")
        #expect(
            problems[1].message
                == "unknown loss 'hinge' (expected cb_focal, poly, asymmetric, focal_smoothing, focal or ce)")
        #expect(problems[2].message == "gamma must be a finite number, found inf")
        #expect(problems[3].message == "lr_head must be positive")
        #expect(throws: SettingsError.invalid(problems)) { try config.validate() }
        #expect(TrainingConfig(stage: .stage2).problems().isEmpty)
    }

    @Test func adapterLayersDependOnTheStage() {
        var config = TrainingConfig(stage: .stage1)
        config.adapterLayers = []
        #expect(config.problems().isEmpty, "Stage 1 has no adapters")
        config.stage = .stage2
        #expect(config.problems().map(\.message) == ["adapter_layers must not be empty"])
        config.adapterLayers = [0, 3]
        #expect(config.problems().map(\.message) == ["adapter_layers [0, 3] must be within 1…4"])
    }

    @Test func flagsParseByKind() throws {
        let table = Dictionary(uniqueKeysWithValues: SettingsTable.all.map { ($0.key, $0) })
        #expect(table["width"]?.parse("32") == .integer(32))
        #expect(table["width"]?.parse("3.5") == nil)
        #expect(table["lr_adapter"]?.parse("1e-3") == .number(1e-3))
        #expect(table["seed"]?.parse("18446744073709551615") == .seed(UInt64.max))
        #expect(table["seed"]?.parse("-1") == nil)
        #expect(table["adapter_layers"]?.parse("3, 4") == .integers([3, 4]))
        #expect(table["adapter_layers"]?.parse("layer3,layer4") == .integers([3, 4]))
        #expect(table["adapter_layers"]?.parse("3,x") == nil)
        #expect(table["backbone_bn"]?.parse("train") == .text("train"))
        #expect(table["backbone_bn"]?.parse("frozen") == nil)
        #expect(table["lr_adapter"]?.flag == "--lr-adapter")
        #expect(table["backbone_bn"]?.expected == "eval or train")
    }

    @Test func lossParametersNameTheirLosses() {
        #expect(SettingsTable.setting("epsilon")?.losses == ["poly"])
        #expect(SettingsTable.setting("gamma")?.losses == ["cb_focal", "focal_smoothing", "focal"])
        #expect(SettingsTable.setting("beta")?.losses == ["cb_focal", "poly", "asymmetric", "focal_smoothing"])
        #expect(SettingsTable.setting("width")?.losses == nil)
        #expect(LossTable.uses("gamma", loss: "poly") == false)
        #expect(LossTable.uses("gamma", loss: "unknown") == true)
    }
}

@Suite struct SettingsDefaultsTests {
    /// The documented defaults (help, flags, docs/training.md) are the values `TrainingConfig(stage:)` holds, per
    /// stage; the loss parameters' documented defaults are checked against NN's losses in WorkerKitTests.
    @Test func documentedDefaultsAreTheDefaults() throws {
        for setting in SettingsTable.all where !setting.optional && setting.key != "stage" {
            let parts = setting.defaultText.components(separatedBy: " (Stage 1: ")
            let clean = { (text: String) in
                text.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
                    .replacingOccurrences(of: ")", with: "")
            }
            let stage2 = try #require(setting.parse(clean(parts[0])), "\(setting.key): '\(setting.defaultText)'")
            let stage1 = try #require(setting.parse(clean(parts.count == 2 ? parts[1] : parts[0])), "\(setting.key)")
            #expect(setting.value(in: TrainingConfig(stage: .stage2)) == stage2, "\(setting.key)")
            #expect(setting.value(in: TrainingConfig(stage: .stage3AB)) == stage2, "\(setting.key)")
            #expect(setting.value(in: TrainingConfig(stage: .stage1)) == stage1, "\(setting.key)")
        }
        for setting in SettingsTable.all where setting.optional {
            #expect(setting.value(in: TrainingConfig(stage: .stage2)) == nil, "\(setting.key) is unset by default")
        }
    }
}
