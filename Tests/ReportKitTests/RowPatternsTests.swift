// RowPatternsTests: Δ macro-F1 from pattern counts equals ClassificationMetrics' definition, with and without swaps.
import AblateSupport
import NN
import ReportKit
import XCTest

final class RowPatternsTests: XCTestCase {
    private func macroF1(_ labels: [Int], _ predicted: [Int], classes: Int) -> ClassificationMetrics {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (label, guess) in zip(labels, predicted) { confusion[label][guess] += 1 }
        return ClassificationMetrics(confusion: confusion, loss: 0)
    }

    func testDeltaEqualsClassificationMetrics() throws {
        var generator = PCG64(seed: 5)
        let classes = 4
        let labels = (0..<500).map { _ in generator.bounded(classes) }
        // Class 3 is never predicted by one cell: its F1 is 0 (zero_division=0) and still counts in the macro mean.
        let variant = (0..<2).map { _ in labels.map { generator.unitDouble() < 0.7 ? $0 : generator.bounded(3) } }
        let baseline = (0..<2).map { _ in labels.map { generator.unitDouble() < 0.6 ? $0 : generator.bounded(classes) }
        }
        let patterns = try RowPatterns(labels: labels, variant: variant, baseline: baseline, classes: classes)
        XCTAssertEqual(patterns.counts.reduce(0, +), labels.count)
        var perClass: [Double] = []
        let delta = patterns.delta(counts: patterns.counts, perClass: &perClass)
        let v = variant.map { macroF1(labels, $0, classes: classes) }
        let b = baseline.map { macroF1(labels, $0, classes: classes) }
        let expected = (v[0].macroF1 + v[1].macroF1) / 2 - (b[0].macroF1 + b[1].macroF1) / 2
        XCTAssertEqual(delta, expected, accuracy: 1e-12)
        for c in 0..<classes {
            XCTAssertEqual(perClass[c], (v[0].f1[c] + v[1].f1[c]) / 2 - (b[0].f1[c] + b[1].f1[c]) / 2, accuracy: 1e-12)
        }

        // Swapping every row exchanges the sides: Δ changes sign.
        let swappedAll = patterns.delta(
            counts: [Int](repeating: 0, count: patterns.patternCount), swapped: patterns.counts, perClass: &perClass)
        XCTAssertEqual(swappedAll, -expected, accuracy: 1e-12)
    }

    func testPartialSwapMatchesExplicitExchange() throws {
        var generator = PCG64(seed: 6)
        let labels = (0..<300).map { _ in generator.bounded(3) }
        let variant = [labels.map { generator.unitDouble() < 0.8 ? $0 : generator.bounded(3) }]
        let baseline = [labels.map { generator.unitDouble() < 0.5 ? $0 : generator.bounded(3) }]
        let patterns = try RowPatterns(labels: labels, variant: variant, baseline: baseline, classes: 3)
        let swap = labels.indices.map { $0 % 3 == 0 }
        var kept = [Int](repeating: 0, count: patterns.patternCount)
        var swapped = kept
        for row in labels.indices {
            let p = Int(patterns.rowPattern[row])
            if swap[row] { swapped[p] += 1 } else { kept[p] += 1 }
        }
        var perClass: [Double] = []
        let delta = patterns.delta(counts: kept, swapped: swapped, perClass: &perClass)
        let left = labels.indices.map { swap[$0] ? baseline[0][$0] : variant[0][$0] }
        let right = labels.indices.map { swap[$0] ? variant[0][$0] : baseline[0][$0] }
        XCTAssertEqual(
            delta, macroF1(labels, left, classes: 3).macroF1 - macroF1(labels, right, classes: 3).macroF1,
            accuracy: 1e-12)
    }

    func testRejectsMismatchedInputs() {
        XCTAssertThrowsError(try RowPatterns(labels: [0, 1], variant: [[0, 1]], baseline: [], classes: 2))
        XCTAssertThrowsError(try RowPatterns(labels: [0, 1], variant: [[0]], baseline: [[0, 1]], classes: 2))
        XCTAssertThrowsError(try RowPatterns(labels: [0, 2], variant: [[0, 1]], baseline: [[0, 1]], classes: 2))
    }

    func testPercentileInterpolatesLikeNumPy() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) = [1.075, 2.5, 3.925].
        XCTAssertEqual(PairedBootstrap.percentile([1, 2, 3, 4], 0.025), 1.075, accuracy: 1e-12)
        XCTAssertEqual(PairedBootstrap.percentile([1, 2, 3, 4], 0.5), 2.5, accuracy: 1e-12)
        XCTAssertEqual(PairedBootstrap.percentile([1, 2, 3, 4], 0.975), 3.925, accuracy: 1e-12)
    }
}
