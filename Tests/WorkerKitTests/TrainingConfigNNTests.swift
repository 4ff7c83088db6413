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

    @Test func batchNormSettingIsTheLayerMode() {
        #expect(TrainingConfig.BatchNormSetting.eval.mode == .eval)
        #expect(TrainingConfig.BatchNormSetting.train.mode == .train)
    }
}
