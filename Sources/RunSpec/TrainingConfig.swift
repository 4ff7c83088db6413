// TrainingConfig: every setting of one training run as plain data, with the research protocol's defaults per stage.
import Foundation

/// How training rows are drawn each epoch.
public enum SamplerKind: String, Codable, Sendable, CaseIterable {
    /// Inverse-frequency weighted sampling with replacement, epoch length = training rows (Stage 2/3 protocol).
    case weighted
    /// Every training row once, shuffled (Stage 1 protocol).
    case shuffle
}

/// A complete, resolved run configuration. A run is a function of this, the dataset and the stage-1 checkpoint.
/// Defaults are the research protocol: AdamW (weight decay 0.01) with adapters 1e-3 and head 1e-4 for Stage 2/3,
/// backbone 1e-4 and head 1e-3 for Stage 1; ReduceLROnPlateau on validation macro-F1 (max, factor 0.5, patience 5,
/// rel. threshold 1e-4); early stopping patience 15; batch 128; at most 50 epochs.
///
/// The keys, types, ranges and help of the settings are `SettingsTable`'s; decoding, encoding and `validate()` go
/// through it.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var stage: Stage
    /// Backbone base width (64 = the research model; smaller for quick demos).
    public var width: Int = 64
    public var adapterReduction: Int = 4
    public var adapterLayers: [Int] = [3, 4]
    /// A `LossTable` name.
    public var loss: String
    public var gamma: Double?
    public var beta: Double?
    public var epsilon: Double?
    public var gammaPositive: Double?
    public var gammaNegative: Double?
    public var smoothing: Double?
    /// BatchNorm mode of a frozen backbone during training: `eval` (the BatchNorm fix: the frozen backbone's
    /// BatchNorm kept in eval mode) or `train`.
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
    /// Compute threads: results do not depend on the count.
    public var threads: Int = 1
    /// Use only the first rows of a split (for demos and tests); nil = all.
    public var maxTrainRows: Int?
    public var maxValRows: Int?

    /// BatchNorm setting as written in configs.
    public enum BatchNormSetting: String, Codable, Sendable, CaseIterable {
        case eval, train
    }

    /// The research defaults for `stage`.
    public init(stage: Stage) {
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

    /// The class-balanced β used for the class weights (the CB focal loss's own β, else 0.9999).
    public var classWeightBeta: Double { beta ?? 0.9999 }

    /// Every problem of the settings' values, in settings-table order (empty: the config is valid).
    public func problems() -> [SettingProblem] {
        SettingsTable.all.compactMap { $0.problem(in: self) }
    }

    /// Checks ranges; every problem in one error.
    public func validate() throws(SettingsError) {
        let problems = problems()
        if !problems.isEmpty { throw .invalid(problems) }
    }

    // MARK: - Coding through the settings table

    /// Decodes a run file or stored config: `stage` is required, every other key overrides that stage's defaults,
    /// `null` keeps the default, and an unknown key is an error naming it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: SettingKey.self)
        let unknown = c.allKeys.map(\.stringValue).filter { SettingsTable.setting($0) == nil }
        if !unknown.isEmpty { throw SettingsError.unknownKeys(unknown.sorted()) }
        self.init(stage: try c.decode(Stage.self, forKey: SettingKey("stage")))
        for setting in SettingsTable.all where setting.key != "stage" {
            let key = SettingKey(setting.key)
            guard c.contains(key), try !c.decodeNil(forKey: key) else { continue }
            let value: SettingValue
            switch setting.kind {
            case .integer: value = .integer(try c.decode(Int.self, forKey: key))
            case .number: value = .number(try c.decode(Double.self, forKey: key))
            case .seed: value = .seed(try c.decode(UInt64.self, forKey: key))
            case .integers: value = .integers(try c.decode([Int].self, forKey: key))
            case .text: value = .text(try c.decode(String.self, forKey: key))
            case .choice(let words):
                let word = try c.decode(String.self, forKey: key)
                guard words.contains(word) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: c, debugDescription: "invalid value '\(word)' (expected \(setting.expected))")
                }
                value = .text(word)
            }
            _ = setting.set(value, in: &self)
        }
    }

    public func encode(to encoder: Encoder) throws {
        try SettingsEncoding(config: self, settings: SettingsTable.all).encode(to: encoder)
    }

    /// Canonical JSON (sorted keys, the cell-identity form of `CellIdentity`), stored in checkpoints and used for
    /// provenance and cell ids.
    /// - Throws: `SettingsError.invalid` naming the setting when one cannot be written (a non-finite number).
    public func canonicalJSON() throws(SettingsError) -> String {
        try CellIdentity.settingsJSON(self, settings: SettingsTable.all)
    }

    /// Parses canonical JSON (or any JSON object of settings).
    public static func fromJSON(_ text: String) throws -> TrainingConfig {
        try JSONDecoder().decode(TrainingConfig.self, from: Data(text.utf8))
    }
}

/// A settings key as a coding key.
struct SettingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Encodes the set values of `settings`, leaving out a setting newer than schema 1 that holds its identity default.
struct SettingsEncoding: Encodable {
    let config: TrainingConfig
    let settings: [Setting]

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: SettingKey.self)
        for setting in settings {
            guard let value = setting.value(in: config), !CellIdentity.omits(setting, value: value) else { continue }
            let key = SettingKey(setting.key)
            switch value {
            case .integer(let v): try c.encode(v, forKey: key)
            case .number(let v): try c.encode(v, forKey: key)
            case .seed(let v): try c.encode(v, forKey: key)
            case .integers(let v): try c.encode(v, forKey: key)
            case .text(let v): try c.encode(v, forKey: key)
            }
        }
    }
}
