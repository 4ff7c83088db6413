// LossTests: every loss's value and gradient against the NumPy reference (complex-step gradients), and finite differences.
import Foundation
import NN
import Testing

/// Reference: Tests/NNTests/Fixtures/losses.json from scripts/fixtures/make_loss_fixture.py (the research losses).
@Suite("Losses")
struct LossTests {
    struct Case: @unchecked Sendable {
        let name: String
        let params: [String: Any]
        let weights: [Double]
        let logits: Tensor
        let labels: [Int]
        let value: Double
        let gradient: [Float]

        var kind: LossKind? {
            let number = { (key: String) in (params[key] as? Double) ?? 0 }
            switch name {
            case "cb_focal": return .cbFocal(gamma: number("gamma"), beta: number("beta"))
            case "focal": return .focal(gamma: number("gamma"))
            case "poly": return .poly(epsilon: number("epsilon"))
            case "asymmetric":
                return .asymmetric(gammaPositive: number("gamma_pos"), gammaNegative: number("gamma_neg"))
            case "focal_smoothing": return .focalSmoothing(gamma: number("gamma"), smoothing: number("smoothing"))
            case "ce": return .crossEntropy(weighted: (params["weighted"] as? Bool) ?? false)
            default: return nil
            }
        }
    }

    static func fixture() throws -> (doc: [String: Any], cases: [Case]) {
        let url = try #require(
            Bundle.module.url(forResource: "losses", withExtension: "json", subdirectory: "Fixtures"))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let raw = try #require(doc["cases"] as? [[String: Any]])
        let cases = try raw.map { entry -> Case in
            let logits = try #require(entry["logits"] as? [[Double]])
            return Case(
                name: try #require(entry["loss"] as? String), params: try #require(entry["params"] as? [String: Any]),
                weights: try #require(entry["class_weights"] as? [Double]),
                logits: Tensor(shape: [logits.count, logits[0].count], data: logits.flatMap { $0.map(Float.init) }),
                labels: try #require(entry["labels"] as? [Int]), value: try #require(entry["value"] as? Double),
                gradient: try #require(entry["gradient"] as? [[Double]]).flatMap { $0.map(Float.init) })
        }
        return (doc, cases)
    }

    @Test func classBalancedWeights() throws {
        let (doc, _) = try Self.fixture()
        let expected = try #require(doc["cb_weights_stage2"] as? [Double])
        let weights = Loss.classBalancedWeights(counts: [23942, 71378, 57280], beta: 0.9999)
        for (a, b) in zip(weights, expected) { #expect(abs(a - b) < 1e-12) }
        #expect(abs(weights.reduce(0, +) - 3) < 1e-12)
        #expect(abs(weights[0] - 1.0634) < 1e-4 && abs(weights[1] - 0.9671) < 1e-4 && abs(weights[2] - 0.9695) < 1e-4)
    }

    @Test func valuesAndGradientsMatchNumPy() throws {
        let (_, cases) = try Self.fixture()
        #expect(cases.count == 10)
        for c in cases {
            let kind = try #require(c.kind, "unknown loss \(c.name)")
            let loss = Loss(kind: kind, classWeights: c.weights)
            let (value, gradient) = loss.evaluate(logits: c.logits, labels: c.labels)
            // Logits were rounded to Float for Ablate, so allow float32-level differences.
            #expect(
                abs(value - c.value) <= 1e-6 * max(1, abs(c.value)), "\(c.name) \(c.params): \(value) vs \(c.value)")
            expectClose(gradient.data, c.gradient, atol: 2e-6, rtol: 1e-5, "\(c.name) \(c.params) gradient")
        }
    }

    /// Central differences in Double on the loss value agree with the analytic gradient.
    @Test func finiteDifferences() throws {
        let (_, cases) = try Self.fixture()
        for c in cases {
            let loss = Loss(kind: try #require(c.kind), classWeights: c.weights)
            let analytic = loss.evaluate(logits: c.logits, labels: c.labels).gradient.data
            var values = c.logits.data
            GradientCheck.check(
                "\(c.name)", values: &values, analytic: analytic, eps: 1e-2, atol: 1e-4, rtol: 1e-2, samples: 100
            ) {
                loss.evaluate(logits: Tensor(shape: c.logits.shape, data: $0), labels: c.labels).loss
            }
        }
    }

    @Test func namesAndWeightUse() {
        #expect(LossKind.named("cb_focal") == .cbFocal(gamma: 2, beta: 0.9999))
        #expect(LossKind.named("focal_smoothing") == .focalSmoothing(gamma: 2, smoothing: 0.1))
        #expect(LossKind.named("hinge") == nil)
        // The Stage-1 focal loss ignores class weights.
        let focal = Loss(kind: .focal(gamma: 2), classWeights: [5, 0.1])
        #expect(focal.classWeights == [1, 1])
    }
}
