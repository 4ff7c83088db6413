// CellFiles: reading a finished cell's central result files (summary.json, metrics.jsonl, predictions.h5).
import Foundation
import HDF5Kit
import WorkerKit

/// The parts of `summary.json` beyond `SummaryDigest`: parameters, hashes, BLAS kernel and threads; each nil when
/// the summary lacks it (a command cell's summary has none of them), and `trainer` (`command` for a command cell).
struct SummaryFacts: Decodable {
    struct Parameters: Decodable {
        var total: Int
        var trainable: Int
        var trainableShare: Double
        enum CodingKeys: String, CodingKey {
            case total, trainable
            case trainableShare = "trainable_share"
        }
    }

    var parameters: Parameters?
    var datasetSHA256: String?
    var stage1SHA256: String?
    var blasCore: String?
    var blasThreads: Int?
    var valRows: Int?
    var trainer: String?

    /// Whether the summary is a command cell's (`CommandSummary`).
    var isCommand: Bool { trainer == "command" }

    /// The keys a native summary must have but this one lacks (docs/protocol.md, "summary.json").
    var missingNativeKeys: [String] {
        [
            ("parameters", parameters == nil), ("dataset_sha256", datasetSHA256 == nil),
            ("stage1_sha256", stage1SHA256 == nil),
            ("blas_core", blasCore == nil), ("blas_threads", blasThreads == nil), ("val_rows", valRows == nil),
        ].filter(\.1).map(\.0)
    }

    enum CodingKeys: String, CodingKey {
        case parameters, trainer
        case datasetSHA256 = "dataset_sha256"
        case stage1SHA256 = "stage1_sha256"
        case blasCore = "blas_core"
        case blasThreads = "blas_threads"
        case valRows = "val_rows"
    }

    static func fromJSON(_ text: String) throws -> SummaryFacts {
        try JSONDecoder().decode(SummaryFacts.self, from: Data(text.utf8))
    }
}

/// A cell's best-epoch validation predictions as classes, and its per-row scores when the file has them.
struct CellPredictions: Sendable {
    var labels: [Int]
    var predicted: [Int]
    /// The number of classes; 0 for a file without logits (scores only).
    var classes: Int
    var epoch: Int
    /// The `score` dataset: one finite number per validation row, whose mean is the cell's metric (mean-of-rows
    /// metrics, docs/bring-your-own-trainer.md); nil when the file has none.
    var scores: [Double]? = nil

    /// Whether the file has logits and labels (classification rows).
    var hasClasses: Bool { classes >= 2 }

    /// Reads `predictions.h5`: its logits, taking each row's arg-max (the first of equal maxima, as the metrics
    /// do), and its `score` dataset when present. A file may hold either or both.
    static func read(_ path: String) throws -> CellPredictions {
        let file = try H5File.open(path)
        let hasLogits = try file.contains("logits")
        let scores = try file.contains("score") ? try readScores(file, path: path) : nil
        var epoch = 0
        if case .integer(let value) = try file.attribute("epoch") { epoch = Int(value) }
        try file.close()
        guard hasLogits || scores == nil else {
            return CellPredictions(labels: [], predicted: [], classes: 0, epoch: epoch, scores: scores)
        }
        var read = try classes(path)
        read.scores = scores
        return read
    }

    /// The most rows a `score` dataset may have (a bound on what the report allocates for one).
    static let maximumScoreRows = 1 << 24

    /// The `score` dataset: rank 1, float32 or float64, 1 … `maximumScoreRows` rows, every value finite.
    private static func readScores(_ file: H5File, path: String) throws -> [Double] {
        let dataset = try file.dataset("score")
        guard dataset.shape.count == 1, let rows = dataset.shape.first, rows >= 1, rows <= maximumScoreRows else {
            throw ReportError("\(path): score is not one number per row (shape \(dataset.shape))")
        }
        let values: [Double]
        switch dataset.elementType {
        case .float64?: values = try dataset.read(as: Double.self)
        case .float32?: values = try dataset.read(as: Float.self).map(Double.init)
        default: throw ReportError("\(path): score is not float32 or float64")
        }
        if let row = values.firstIndex(where: { !$0.isFinite }) {
            throw ReportError("\(path): score of row \(row) is not a finite number")
        }
        return values
    }

    private static func classes(_ path: String) throws -> CellPredictions {
        let file = try Predictions.read(path)
        guard file.classes >= 2, file.logits.count == file.labels.count * file.classes else {
            throw ReportError("\(path): logits are not rows × classes")
        }
        var predicted = [Int](repeating: 0, count: file.labels.count)
        file.logits.withUnsafeBufferPointer { logits in
            for row in 0..<file.labels.count {
                var best = 0
                var value = logits[row * file.classes]
                for k in 1..<file.classes where logits[row * file.classes + k] > value {
                    value = logits[row * file.classes + k]
                    best = k
                }
                predicted[row] = best
            }
        }
        return CellPredictions(labels: file.labels, predicted: predicted, classes: file.classes, epoch: file.epoch)
    }
}

/// A command cell's epoch from its `metrics.jsonl` line (kept verbatim in its summary as `best_record` and
/// `last_record`): when the command reported them `val_macro_f1`, `val_macro_precision`, `val_macro_recall`,
/// `val_accuracy`, `val_ece`, `val_loss`; every other metric is NaN, the per-class lists and the confusion empty.
enum CommandRecord {
    /// The metrics of `record` (a JSON object); nil when it has no integer `epoch`.
    static func metrics(_ record: [String: Any]) -> EpochMetrics? {
        guard let epoch = record["epoch"] as? Int else { return nil }
        let macroF1 = number(record["val_macro_f1"]) ?? .nan
        func optional(_ key: String) -> Double { number(record[key]) ?? .nan }
        return EpochMetrics(
            epoch: epoch, macroF1: macroF1, macroPrecision: optional("val_macro_precision"),
            macroRecall: optional("val_macro_recall"), accuracy: optional("val_accuracy"), ece: optional("val_ece"),
            loss: optional("val_loss"), f1: [], precision: [], recall: [], confusion: [])
    }

    /// The `best_record` and `last_record` objects of a command cell's `summary.json`.
    static func records(summary text: String) throws -> (best: [String: Any]?, last: [String: Any]?) {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ReportError("summary.json is not a JSON object")
        }
        return (object["best_record"] as? [String: Any], object["last_record"] as? [String: Any])
    }

    private static func number(_ value: Any?) -> Double? {
        guard let double = (value as? NSNumber)?.doubleValue, double.isFinite else { return nil }
        return double
    }
}

extension EpochMetrics {
    /// The validation part of an epoch record.
    init(_ record: EpochRecord) {
        let val = record.val
        self.init(
            epoch: record.epoch, macroF1: val.macroF1, macroPrecision: val.macroPrecision, macroRecall: val.macroRecall,
            accuracy: val.accuracy, ece: val.ece, loss: val.loss, f1: val.f1, precision: val.precision,
            recall: val.recall,
            confusion: val.confusion)
    }
}
