// TrainingConfigNNTests: the settings' loss table agrees with the losses NN computes.
import NN
import RunSpec
import Testing
import WorkerKit

@Suite struct TrainingConfigNNTests {
    @Test func lossTableMatchesTheLosses() throws {
        for entry in LossTable.entries {
            var config = TrainingConfig(stage: .stage2)
            config.loss = entry.name
            let plain = try config.lossKind()
            #expect(LossKind.named(entry.name) == plain, "\(entry.name): no override, the research defaults")
            #expect(plain.usesClassWeights == entry.usesClassWeights, "\(entry.name)")
            // A parameter the table names changes the loss; any other loss parameter leaves it as it was.
            for key in ["gamma", "epsilon", "gamma_pos", "gamma_neg", "smoothing"] {
                var probed = config
                _ = SettingsTable.setting(key)?.set(.number(0.123), in: &probed)
                #expect((try probed.lossKind() != plain) == entry.parameters.contains(key), "\(entry.name) \(key)")
            }
        }
        var unknown = TrainingConfig(stage: .stage2)
        unknown.loss = "hinge"
        #expect(throws: TrainingError.self) { try unknown.lossKind() }
    }

    /// The documented default of each loss parameter is the research default of every loss that uses it.
    @Test func lossParameterDefaultsAreTheLosses() throws {
        func parameter(_ key: String, of kind: LossKind, beta: Double) -> Double? {
            switch (key, kind) {
            case ("gamma", .cbFocal(let g, _)), ("gamma", .focalSmoothing(let g, _)), ("gamma", .focal(let g)): g
            case ("beta", .cbFocal(_, let b)): b
            case ("beta", _): kind.usesClassWeights ? beta : nil
            case ("epsilon", .poly(let e)): e
            case ("gamma_pos", .asymmetric(let p, _)): p
            case ("gamma_neg", .asymmetric(_, let n)): n
            case ("smoothing", .focalSmoothing(_, let s)): s
            default: nil
            }
        }
        for setting in SettingsTable.all where setting.optional && setting.losses != nil {
            let documented = try #require(
                setting.parse(setting.defaultText), "\(setting.key): '\(setting.defaultText)'")
            for loss in setting.losses ?? [] {
                var config = TrainingConfig(stage: .stage2)
                config.loss = loss
                let value = parameter(setting.key, of: try config.lossKind(), beta: config.classWeightBeta)
                #expect(value.map(SettingValue.number) == documented, "\(setting.key) of \(loss)")
            }
        }
    }

    @Test func batchNormSettingIsTheLayerMode() {
        #expect(TrainingConfig.BatchNormSetting.eval.mode == .eval)
        #expect(TrainingConfig.BatchNormSetting.train.mode == .train)
    }
}
