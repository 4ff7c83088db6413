// TrainingConfig+NN: what the trainer builds from run settings — the model's architecture, the loss, BatchNorm mode.
import NN
import RunSpec

extension TrainingConfig {
    /// The architecture part.
    public var model: ModelConfig {
        ModelConfig(stage: stage, width: width, adapterReduction: adapterReduction, adapterLayers: adapterLayers)
    }

    /// The loss with this config's overrides applied to the research defaults of its name.
    public func lossKind() throws -> LossKind {
        guard let base = LossKind.named(loss) else {
            throw TrainingError.badConfig("unknown loss '\(loss)' (expected \(LossTable.names))")
        }
        switch base {
        case .cbFocal(let g, let b): return .cbFocal(gamma: gamma ?? g, beta: beta ?? b)
        case .poly(let e): return .poly(epsilon: epsilon ?? e)
        case .asymmetric(let p, let n):
            return .asymmetric(gammaPositive: gammaPositive ?? p, gammaNegative: gammaNegative ?? n)
        case .focalSmoothing(let g, let s): return .focalSmoothing(gamma: gamma ?? g, smoothing: smoothing ?? s)
        case .focal(let g): return .focal(gamma: gamma ?? g)
        case .crossEntropy: return base
        }
    }
}

extension TrainingConfig.BatchNormSetting {
    /// The layer mode of the setting.
    public var mode: BatchNorm2d.Mode { self == .eval ? .eval : .train }
}
