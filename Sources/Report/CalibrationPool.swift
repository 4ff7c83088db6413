// CalibrationPool: real cells of one configuration — their best-epoch predictions on the same validation rows — to resample.
import AblateSupport
import Foundation
import NN

/// The cells a calibration simulation draws from: every cell trained with the same settings (only the seed differs),
/// each as its best-epoch predicted class per validation row, all on the same rows with the same labels. Drawing
/// whole cells keeps a real seed's way of being right and wrong together; drawing rows keeps the validation set's.
public struct CalibrationPool: Sendable {
    /// True class per validation row.
    public var labels: [Int]
    public var classes: Int
    /// Predicted class per row, one array per cell.
    public var cells: [[Int]]
    /// `variant seed` of each cell (for messages).
    public var names: [String]

    /// A pool from predictions; throws unless there are at least 4 cells, every cell covers every row, and every
    /// class lies in `0..<classes`.
    public init(labels: [Int], classes: Int, cells: [[Int]], names: [String]) throws {
        guard classes >= 2 else { throw ReportError("calibration pool: \(classes) classes") }
        guard labels.count >= 2 else { throw ReportError("calibration pool: \(labels.count) validation rows") }
        guard cells.count >= 4 else {
            throw ReportError("calibration pool: \(cells.count) cells; at least 4 are needed")
        }
        guard names.count == cells.count else {
            throw ReportError("calibration pool: \(names.count) names for \(cells.count) cells")
        }
        for (cell, name) in zip(cells, names) where cell.count != labels.count {
            throw ReportError("calibration pool: \(name) has \(cell.count) rows, the pool \(labels.count)")
        }
        guard (labels + cells.joined()).allSatisfy({ $0 >= 0 && $0 < classes }) else {
            throw ReportError("calibration pool: a class outside 0..<\(classes)")
        }
        self.labels = labels
        self.classes = classes
        self.cells = cells
        self.names = names
    }

    /// The finished cells with predictions of `variants` (default: each directory's baseline and the replicas of it)
    /// in the state directories, which must all be of one configuration: the same resolved config but for the seed,
    /// and the same validation labels.
    public static func load(stateDirectories: [String], variants: Set<String>? = nil) throws -> CalibrationPool {
        var labels: [Int]?
        var classes = 0
        var cells: [[Int]] = []
        var names: [String] = []
        var configuration: String?
        var seen = Set<String>()
        for directory in stateDirectories {
            let inputs = try ReportLoader.load(stateDirectory: directory)
            let wanted =
                variants ?? Set([inputs.baseline] + inputs.replicaOf.filter { $0.value == inputs.baseline }.map(\.key))
            for cell in inputs.cells where wanted.contains(cell.report.variant) {
                let name = "\(directory): \(cell.report.variant) seed \(cell.report.seed)"
                guard let predictions = cell.predictions else {
                    throw ReportError("calibration pool: \(name) has no readable predictions.h5")
                }
                let settings = try withoutSeed(cell.configJSON)
                if let configuration, configuration != settings {
                    throw ReportError(
                        "calibration pool: \(name) was trained with other settings than \(names.first ?? "the first cell")"
                    )
                }
                configuration = settings
                if let labels, labels != predictions.labels {
                    throw ReportError(
                        "calibration pool: \(name) is scored on other validation rows than \(names.first ?? "the first cell")"
                    )
                }
                // The same seed twice (one sweep directory given twice) would be one cell counted as two.
                guard seen.insert(settings + "\u{0}\(cell.report.seed)").inserted else { continue }
                labels = predictions.labels
                classes = predictions.classes
                cells.append(predictions.predicted)
                names.append(name)
            }
        }
        guard let labels else {
            throw ReportError(
                "calibration pool: no finished cell with predictions in \(stateDirectories.joined(separator: ", "))")
        }
        return try CalibrationPool(labels: labels, classes: classes, cells: cells, names: names)
    }

    /// The resolved config as canonical JSON without its `seed`.
    static func withoutSeed(_ configJSON: String) throws -> String {
        guard var object = try JSONSerialization.jsonObject(with: Data(configJSON.utf8)) as? [String: Any] else {
            throw ReportError("calibration pool: a cell's config is not a JSON object")
        }
        object["seed"] = nil
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Macro-F1 (fraction; scikit-learn's, zero_division 0, over all classes) of `predicted` against `labels` on the
    /// rows listed in `rows` (with repeats).
    public static func macroF1(labels: [Int], predicted: [Int], rows: [Int], classes: Int) -> Double {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for row in rows { confusion[labels[row]][predicted[row]] += 1 }
        return ClassificationMetrics(confusion: confusion, loss: 0).macroF1
    }

    /// A true effect for power: the rows a better variant gets right. Takes the rows in the order of
    /// `default_rng(seed).permutation(rows)` and returns the shortest prefix whose correction (predicted := label
    /// on those rows) raises the pool's mean macro-F1 (all rows) by at least `targetPP` points, with the raise it
    /// gives; nil when even every row is not enough.
    public func effectRows(targetPP: Double, seed: UInt64) -> (rows: [Int], effectPP: Double)? {
        var generator = NumPyGenerator(seed: seed)
        let order = generator.permutation(labels.count)
        let all = Array(labels.indices)
        let base = cells.map { CalibrationPool.macroF1(labels: labels, predicted: $0, rows: all, classes: classes) }
        func gain(_ k: Int) -> Double {
            let fixed = Array(order.prefix(k))
            var total = 0.0
            for (cell, f1) in zip(cells, base) {
                total +=
                    CalibrationPool.macroF1(
                        labels: labels, predicted: corrected(cell, rows: fixed), rows: all, classes: classes) - f1
            }
            return 100 * total / Double(cells.count)
        }
        guard gain(labels.count) >= targetPP else { return nil }
        var low = 0
        var high = labels.count
        while low < high {
            let middle = (low + high) / 2
            if gain(middle) >= targetPP { high = middle } else { low = middle + 1 }
        }
        return (Array(order.prefix(low)), gain(low))
    }

    /// `cell` with the prediction of each row in `rows` set to its label.
    public func corrected(_ cell: [Int], rows: [Int]) -> [Int] {
        var out = cell
        for row in rows { out[row] = labels[row] }
        return out
    }
}
