// TrainingRecords: what a run writes — one record per epoch (metrics.jsonl), the trainer state, the summary.
import AblateSupport
import Foundation
import NN
import RunSpec

/// One epoch: train metrics (train-mode predictions on the resampled batches, as the research code measured
/// them) and validation metrics, the learning rates used, and early-stopping bookkeeping.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var train: ClassificationMetrics
    public var val: ClassificationMetrics
    /// Learning rate of each optimizer group during this epoch.
    public var learningRates: [String: Double]
    public var epochsWithoutImprovement: Int
    public var isBest: Bool
    /// Wall time of the epoch (not part of the run's deterministic result).
    public var seconds: Double

    /// The record without its wall time, for comparing runs.
    public var deterministicPart: EpochRecord {
        var copy = self
        copy.seconds = 0
        return copy
    }
}

/// Everything besides tensors that a resumed run needs to continue bit for bit.
public struct TrainerState: Codable, Sendable, Equatable {
    public var epochsCompleted: Int
    public var history: [EpochRecord]
    public var scheduler: ReduceLROnPlateau
    public var earlyStopping: EarlyStopping
    public var learningRates: [Double]
    public var random: PCG64.State
    public var status: TrainingStatus
}

/// How a run ended (or that it is still running).
public enum TrainingStatus: String, Codable, Sendable {
    case running
    case completed
    case earlyStopped = "early_stopped"
    case diverged
}

/// `summary.json`: the run's result with best-epoch and last-epoch metrics kept apart.
public struct TrainingSummary: Codable, Sendable {
    public var status: TrainingStatus
    /// Epoch at which a non-finite loss stopped the run.
    public var divergedAtEpoch: Int?
    public var epochsRun: Int
    public var bestEpoch: Int
    /// Every metric at the best epoch (highest validation macro-F1).
    public var best: EpochRecord?
    /// Every metric at the last epoch.
    public var last: EpochRecord?
    public var parameters: Parameters
    public var classWeights: [Double]
    public var trainRows: Int
    public var valRows: Int
    public var seconds: Double
    public var config: TrainingConfig
    public var datasetSHA256: String
    public var stage1SHA256: String
    public var blasCore: String
    public var blasThreads: Int
    /// The own GEMM kernel path the run computed with (`GEMMKernel`); absent from summaries written before it was
    /// recorded.
    public var gemmKernel: String?

    public struct Parameters: Codable, Sendable {
        public var total: Int
        public var trainable: Int
        public var trainableShare: Double
    }
}

/// JSON coding with snake_case keys and sorted output, shared by every file a run writes.
enum RunJSON {
    static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: Data(text.utf8))
    }
}

/// The outcome part of a `summary.json` (status, epochs, best- and last-epoch records), readable without the
/// nested config (whose snake_case keys are its own coding keys, not a key strategy's).
public struct SummaryDigest: Decodable, Sendable {
    public var status: TrainingStatus
    public var divergedAtEpoch: Int?
    public var epochsRun: Int
    public var bestEpoch: Int
    public var best: EpochRecord?
    public var last: EpochRecord?
    public var seconds: Double
    /// The best epoch's validation macro-F1 as a command cell's summary gives it (native summaries have `best`).
    public var bestValMacroF1: Double?

    /// The best epoch's validation macro-F1, from `best` or, for a command cell, `best_val_macro_f1`.
    public var bestMacroF1: Double? { best?.val.macroF1 ?? bestValMacroF1 }

    /// Reads the digest of a `summary.json` text.
    public static func fromJSON(_ text: String) throws -> SummaryDigest {
        try RunJSON.decode(SummaryDigest.self, from: text)
    }
}
