// CellFiles: reading a finished cell's central result files (summary.json, metrics.jsonl, predictions.h5).
import Foundation
import WorkerKit

/// The parts of `summary.json` beyond `SummaryDigest`: parameters, hashes, BLAS kernel and threads.
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

    var parameters: Parameters
    var datasetSHA256: String
    var stage1SHA256: String
    var blasCore: String
    var blasThreads: Int
    var valRows: Int

    enum CodingKeys: String, CodingKey {
        case parameters
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

/// A cell's best-epoch validation predictions as classes.
struct CellPredictions: Sendable {
    var labels: [Int]
    var predicted: [Int]
    var classes: Int
    var epoch: Int

    /// Reads `predictions.h5` and takes each row's arg-max (the first of equal maxima, as the metrics do).
    static func read(_ path: String) throws -> CellPredictions {
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

/// Validation macro-F1 per epoch from a `metrics.jsonl`.
enum MetricsHistory {
    private struct Line: Decodable {
        struct Val: Decodable {
            var macroF1: Double
            enum CodingKeys: String, CodingKey { case macroF1 = "macro_f1" }
        }
        var epoch: Int
        var val: Val
    }

    /// One value per epoch (the last line of an epoch wins); empty when the file is missing.
    static func read(_ path: String) throws -> [EpochValue] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var byEpoch: [Int: Double] = [:]
        for (index, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let record = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
                byEpoch[record.epoch] = record.val.macroF1
            } catch {
                throw ReportError("\(path):\(index + 1): not an epoch record (\(error))")
            }
        }
        return byEpoch.keys.sorted().compactMap { epoch in byEpoch[epoch].map { EpochValue(epoch: epoch, value: $0) } }
    }
}

extension EpochMetrics {
    /// The validation part of an epoch record.
    init(_ record: EpochRecord) {
        let val = record.val
        self.init(epoch: record.epoch, macroF1: val.macroF1, macroPrecision: val.macroPrecision, macroRecall: val.macroRecall,
                  accuracy: val.accuracy, ece: val.ece, loss: val.loss, f1: val.f1, precision: val.precision, recall: val.recall,
                  confusion: val.confusion)
    }
}
