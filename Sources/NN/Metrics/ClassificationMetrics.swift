// ClassificationMetrics: confusion matrix, per-class and macro precision/recall/F1, accuracy and ECE (15 bins).
import Foundation

/// Metrics of one pass over a split, as scikit-learn computes them with `zero_division=0` and macro
/// averages over all K classes; ECE is the expected calibration error of the top-1 confidence over 15
/// equal-width bins `(i/15, (i+1)/15]` (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017).
public struct ClassificationMetrics: Sendable, Equatable, Codable {
    /// `confusion[true][predicted]`.
    public var confusion: [[Int]]
    public var precision: [Double]
    public var recall: [Double]
    public var f1: [Double]
    public var support: [Int]
    public var macroPrecision: Double
    public var macroRecall: Double
    public var macroF1: Double
    public var accuracy: Double
    public var ece: Double
    /// Mean loss over the pass's batches or rows (set by the caller).
    public var loss: Double

    /// Computes the metrics from per-row probabilities `[N, K]` (row-major) and labels.
    public init(probabilities: [Float], labels: [Int], classes: Int, loss: Double, bins: Int = 15) {
        let n = labels.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var binCount = [Int](repeating: 0, count: bins)
        var binCorrect = [Double](repeating: 0, count: bins)
        var binConfidence = [Double](repeating: 0, count: bins)
        for row in 0..<n {
            var predicted = 0
            var confidence = probabilities[row * classes]
            for k in 1..<classes where probabilities[row * classes + k] > confidence {
                confidence = probabilities[row * classes + k]
                predicted = k
            }
            confusion[labels[row]][predicted] += 1
            let bin = min(bins - 1, max(0, Int((Double(confidence) * Double(bins)).rounded(.up)) - 1))
            binCount[bin] += 1
            binConfidence[bin] += Double(confidence)
            if predicted == labels[row] { binCorrect[bin] += 1 }
        }
        self.init(confusion: confusion, loss: loss)
        var ece = 0.0
        for b in 0..<bins where binCount[b] > 0 {
            ece +=
                Double(binCount[b]) / Double(n)
                * abs(binCorrect[b] / Double(binCount[b]) - binConfidence[b] / Double(binCount[b]))
        }
        self.ece = ece
    }

    /// Metrics from a confusion matrix alone (ECE 0).
    public init(confusion: [[Int]], loss: Double) {
        let classes = confusion.count
        self.confusion = confusion
        self.loss = loss
        precision = []
        recall = []
        f1 = []
        support = []
        var correct = 0
        var total = 0
        for k in 0..<classes {
            let tp = confusion[k][k]
            let predicted = (0..<classes).reduce(0) { $0 + confusion[$1][k] }
            let actual = confusion[k].reduce(0, +)
            precision.append(predicted == 0 ? 0 : Double(tp) / Double(predicted))
            recall.append(actual == 0 ? 0 : Double(tp) / Double(actual))
            f1.append(tp == 0 ? 0 : 2 * Double(tp) / Double(predicted + actual))
            support.append(actual)
            correct += tp
            total += actual
        }
        macroPrecision = precision.reduce(0, +) / Double(classes)
        macroRecall = recall.reduce(0, +) / Double(classes)
        macroF1 = f1.reduce(0, +) / Double(classes)
        accuracy = total == 0 ? 0 : Double(correct) / Double(total)
        ece = 0
    }
}
