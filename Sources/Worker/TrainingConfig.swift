// TrainingConfig: every setting of one training run, with the research protocol's defaults per stage.
import Foundation
import NN

/// How training rows are drawn each epoch.
public enum SamplerKind: String, Codable, Sendable, CaseIterable {
    /// Inverse-frequency weighted sampling with replacement, epoch length = training rows (Stage 2/3 protocol).
    case weighted
    /// Every training row once, shuffled (Stage 1 protocol).
    case shuffle
}

/// A complete, resolved run configuration. A run is a function of this, the dataset and the stage-1 checkpoint.
/// Defaults are the research protocol (reference spec §5): AdamW (weight decay 0.01) with adapters 1e-3 and head
/// 1e-4 for Stage 2/3, backbone 1e-4 and head 1e-3 for Stage 1; ReduceLROnPlateau on validation macro-F1 (max,
/// factor 0.5, patience 5, rel. threshold 1e-4); early stopping patience 15; batch 128; at most 50 epochs.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var stage: ModelStage
    /// Backbone base width (64 = the research model; smaller for quick demos).
    public var width: Int = 64
    public var adapterReduction: Int = 4
    public var adapterLayers: [Int] = [3, 4]
    /// `cb_focal`, `poly`, `asymmetric`, `focal_smoothing`, `focal` or `ce`.
    public var loss: String
    public var gamma: Double?
    public var beta: Double?
    public var epsilon: Double?
    public var gammaPositive: Double?
    public var gammaNegative: Double?
    public var smoothing: Double?
    /// BatchNorm mode of a frozen backbone during training: `eval` (the fix of seed document 000) or `train`.
    public var backboneBN: BatchNormSetting = .eval
    public var epochs: Int = 50
    public var batchSize: Int = 128
    public var lrAdapter: Double = 1e-3
    public var lrHead: Double
    public var lrBackbone: Double = 1e-4
    public var weightDecay: Double = 0.01
    public var schedulerFactor: Double = 0.5
    public var schedulerPatience: Int = 5
    public var schedulerThreshold: Double = 1e-4
    public var earlyStoppingPatience: Int = 15
    public var sampler: SamplerKind
    public var seed: UInt64 = 42
    /// Compute threads: GEMMs are split over them and eval-mode batches spread over them (`ComputePool`,
    /// `ParallelBatches`); results do not depend on the count.
    public var threads: Int = 1
    /// Use only the first rows of a split (for demos and tests); nil = all.
    public var maxTrainRows: Int?
    public var maxValRows: Int?

    /// The documented key of every setting (also used in run files and sweeps).
    enum CodingKeys: String, CodingKey {
        case stage, width, loss, gamma, beta, epsilon, smoothing, epochs, sampler, seed, threads
        case adapterReduction = "adapter_reduction", adapterLayers = "adapter_layers"
        case gammaPositive = "gamma_pos", gammaNegative = "gamma_neg", backboneBN = "backbone_bn"
        case batchSize = "batch_size", lrAdapter = "lr_adapter", lrHead = "lr_head", lrBackbone = "lr_backbone"
        case weightDecay = "weight_decay", schedulerFactor = "scheduler_factor", schedulerPatience = "scheduler_patience"
        case schedulerThreshold = "scheduler_threshold", earlyStoppingPatience = "early_stopping_patience"
        case maxTrainRows = "max_train_rows", maxValRows = "max_val_rows"
    }

    /// Decodes a run file or stored config: `stage` is required, every other key overrides that stage's
    /// defaults, and an unknown key is an error naming it.
    public init(from decoder: Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        let unknown = keys.filter { CodingKeys(stringValue: $0) == nil }
        if !unknown.isEmpty {
            throw TrainingError.badConfig("unknown keys: \(unknown.sorted().joined(separator: ", "))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stage: try c.decode(ModelStage.self, forKey: .stage))
        func set<T: Decodable>(_ key: CodingKeys, _ apply: (T) -> Void) throws {
            if let value = try c.decodeIfPresent(T.self, forKey: key) { apply(value) }
        }
        try set(.width) { self.width = $0 }
        try set(.adapterReduction) { self.adapterReduction = $0 }
        try set(.adapterLayers) { self.adapterLayers = $0 }
        try set(.loss) { self.loss = $0 }
        try set(.gamma) { self.gamma = $0 }
        try set(.beta) { self.beta = $0 }
        try set(.epsilon) { self.epsilon = $0 }
        try set(.gammaPositive) { self.gammaPositive = $0 }
        try set(.gammaNegative) { self.gammaNegative = $0 }
        try set(.smoothing) { self.smoothing = $0 }
        try set(.backboneBN) { self.backboneBN = $0 }
        try set(.epochs) { self.epochs = $0 }
        try set(.batchSize) { self.batchSize = $0 }
        try set(.lrAdapter) { self.lrAdapter = $0 }
        try set(.lrHead) { self.lrHead = $0 }
        try set(.lrBackbone) { self.lrBackbone = $0 }
        try set(.weightDecay) { self.weightDecay = $0 }
        try set(.schedulerFactor) { self.schedulerFactor = $0 }
        try set(.schedulerPatience) { self.schedulerPatience = $0 }
        try set(.schedulerThreshold) { self.schedulerThreshold = $0 }
        try set(.earlyStoppingPatience) { self.earlyStoppingPatience = $0 }
        try set(.sampler) { self.sampler = $0 }
        try set(.seed) { self.seed = $0 }
        try set(.threads) { self.threads = $0 }
        try set(.maxTrainRows) { self.maxTrainRows = $0 }
        try set(.maxValRows) { self.maxValRows = $0 }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// BatchNorm setting as written in configs.
    public enum BatchNormSetting: String, Codable, Sendable {
        case eval, train
        public var mode: BatchNorm2d.Mode { self == .eval ? .eval : .train }
    }

    /// The research defaults for `stage`.
    public init(stage: ModelStage) {
        self.stage = stage
        if stage == .stage1 {
            loss = "focal"
            lrHead = 1e-3
            sampler = .shuffle
        } else {
            loss = "cb_focal"
            lrHead = 1e-4
            sampler = .weighted
        }
    }

    /// The architecture part.
    public var model: ModelConfig {
        ModelConfig(stage: stage, width: width, adapterReduction: adapterReduction, adapterLayers: adapterLayers)
    }

    /// The loss with this config's overrides applied to the research defaults of its name.
    public func lossKind() throws -> LossKind {
        guard let base = LossKind.named(loss) else {
            throw TrainingError.badConfig("unknown loss '\(loss)' (expected cb_focal, poly, asymmetric, focal_smoothing, focal or ce)")
        }
        switch base {
        case .cbFocal(let g, let b): return .cbFocal(gamma: gamma ?? g, beta: beta ?? b)
        case .poly(let e): return .poly(epsilon: epsilon ?? e)
        case .asymmetric(let p, let n): return .asymmetric(gammaPositive: gammaPositive ?? p, gammaNegative: gammaNegative ?? n)
        case .focalSmoothing(let g, let s): return .focalSmoothing(gamma: gamma ?? g, smoothing: smoothing ?? s)
        case .focal(let g): return .focal(gamma: gamma ?? g)
        case .crossEntropy: return base
        }
    }

    /// The class-balanced β used for the class weights (the CB focal loss's own β, else 0.9999).
    public var classWeightBeta: Double { beta ?? 0.9999 }

    /// Checks ranges; every problem in one error.
    public func validate() throws {
        var problems: [String] = []
        if width < 16 || width % 16 != 0 { problems.append("width \(width) must be a positive multiple of 16") }
        if ![2, 4, 8, 16].contains(adapterReduction) { problems.append("adapter_reduction \(adapterReduction) must be 2, 4, 8 or 16") }
        if adapterLayers.isEmpty && stage.usesAdapters { problems.append("adapter_layers must not be empty") }
        if adapterLayers.contains(where: { !(1...4).contains($0) }) { problems.append("adapter_layers \(adapterLayers) must be within 1…4") }
        if epochs < 1 { problems.append("epochs must be ≥ 1") }
        if batchSize < 2 { problems.append("batch_size must be ≥ 2 (BatchNorm needs two rows)") }
        for (name, value) in finiteSettings where !value.isFinite {
            problems.append("\(name) must be a finite number, found \(value)")
        }
        for (name, value) in [("lr_adapter", lrAdapter), ("lr_head", lrHead), ("lr_backbone", lrBackbone)]
        where value.isFinite && !(value > 0) {
            problems.append("\(name) must be positive")
        }
        if threads < 1 { problems.append("threads must be ≥ 1") }
        do { _ = try lossKind() } catch { problems.append("\(error)") }
        if !problems.isEmpty { throw TrainingError.badConfig(problems.joined(separator: "; ")) }
    }

    /// Every number setting with its key (each must be finite), optional ones only when set.
    var finiteSettings: [(String, Double)] {
        let optional: [(String, Double?)] = [
            ("gamma", gamma), ("beta", beta), ("epsilon", epsilon), ("gamma_pos", gammaPositive),
            ("gamma_neg", gammaNegative), ("smoothing", smoothing),
        ]
        return optional.compactMap { name, value in value.map { (name, $0) } } + [
            ("lr_adapter", lrAdapter), ("lr_head", lrHead), ("lr_backbone", lrBackbone), ("weight_decay", weightDecay),
            ("scheduler_factor", schedulerFactor), ("scheduler_threshold", schedulerThreshold),
        ]
    }

    /// Canonical JSON (sorted keys), stored in checkpoints and used for provenance and cell ids.
    /// - Throws: `TrainingError.badConfig` naming the setting when one cannot be written (a non-finite number).
    public func canonicalJSON() throws -> String {
        if let (name, value) = finiteSettings.first(where: { !$0.1.isFinite }) {
            throw TrainingError.badConfig("\(name) must be a finite number, found \(value); the settings have no JSON form")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw TrainingError.badConfig("the settings have no JSON form")
        }
    }

    /// Parses canonical JSON.
    public static func fromJSON(_ text: String) throws -> TrainingConfig {
        try JSONDecoder().decode(TrainingConfig.self, from: Data(text.utf8))
    }
}

/// Errors of a training run, printed as one line.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case badConfig(String)
    case badData(String)
    case badCheckpoint(path: String, detail: String)
    /// The run was asked to stop (its last completed epoch is the resume point).
    case cancelled

    public var description: String {
        switch self {
        case .cancelled: "the run was cancelled"
        case .badConfig(let detail): "invalid training settings: \(detail)"
        case .badData(let detail): detail
        case .badCheckpoint(let path, let detail): "\(path): \(detail)"
        }
    }
}
