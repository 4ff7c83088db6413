// TrainingComponentTests: AdamW, ReduceLROnPlateau, early stopping and metrics against the NumPy reference.
import Foundation
import NN
import Testing

/// Reference: Tests/NNTests/Fixtures/training.json from scripts/fixtures/make_training_fixture.py.
@Suite("Training components")
struct TrainingComponentTests {
    static func fixture() throws -> [String: Any] {
        let url = try #require(Bundle.module.url(forResource: "training", withExtension: "json", subdirectory: "Fixtures"))
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// Two groups (lr 1e-3 and 1e-4, weight decay 0.01) over 12 steps of given gradients.
    @Test func adamWMatchesPyTorchAlgorithm() throws {
        let adam = try #require(try Self.fixture()["adamw"] as? [String: Any])
        let params = try #require(adam["params"] as? [[Double]])
        let grads = try #require(adam["grads"] as? [[[Double]]])
        let trajectory = try #require(adam["trajectory"] as? [[[Double]]])
        let store = ParameterStore()
        let a = store.add("adapters.x", shape: [6])
        let h = store.add("head.y", shape: [4])
        _ = store.add("backbone.frozen", shape: [3], trainable: false)
        store.set(a, params[0].map(Float.init))
        store.set(h, params[1].map(Float.init))
        let optimizer = AdamW(store: store, groups: [
            AdamW.Group(name: "adapters", prefix: "adapters.", learningRate: 1e-3),
            AdamW.Group(name: "head", prefix: "head.", learningRate: 1e-4),
        ])
        #expect(optimizer.members.count == 2)
        for (step, stepGrads) in grads.enumerated() {
            store.zeroGradients()
            for (ref, g) in zip([a, h], stepGrads) {
                for (i, value) in g.enumerated() { store.gradients(ref)[i] = Float(value) }
            }
            optimizer.update(store)
            expectClose(store.array(a), trajectory[step][0].map(Float.init), atol: 1e-7, rtol: 1e-6, "adapters after step \(step + 1)")
            expectClose(store.array(h), trajectory[step][1].map(Float.init), atol: 1e-7, rtol: 1e-6, "head after step \(step + 1)")
        }
    }

    @Test func plateauSchedulerAndEarlyStopping() throws {
        let schedule = try #require(try Self.fixture()["schedule"] as? [String: Any])
        let metrics = try #require(schedule["metrics"] as? [Double])
        let expectedRates = try #require(schedule["lrs"] as? [[Double]])
        let stopping = try #require(schedule["early_stopping"] as? [String: Any])
        var scheduler = ReduceLROnPlateau()
        var rates = try #require(schedule["initial_lrs"] as? [Double])
        var stopper = EarlyStopping(patience: 15)
        var stopEpoch: Int?
        for (index, metric) in metrics.enumerated() {
            rates = scheduler.step(metric: metric, learningRates: rates)
            for (r, e) in zip(rates, expectedRates[index]) { #expect(abs(r - e) <= 1e-15, "epoch \(index + 1): \(rates) vs \(expectedRates[index])") }
            _ = stopper.record(metric: metric, epoch: index + 1)
            if stopper.shouldStop, stopEpoch == nil { stopEpoch = index + 1 }
        }
        #expect(stopEpoch == stopping["stop_epoch"] as? Int)
        #expect(stopper.bestEpoch == stopping["best_epoch"] as? Int)
    }

    @Test func metricsMatchReference() throws {
        let cases = try #require(try Self.fixture()["metrics"] as? [[String: Any]])
        for (index, c) in cases.enumerated() {
            let probabilities = try #require(c["probabilities"] as? [[Double]]).flatMap { $0.map(Float.init) }
            let labels = try #require(c["labels"] as? [Int])
            let m = ClassificationMetrics(probabilities: probabilities, labels: labels, classes: 3, loss: 0)
            #expect(m.confusion == (c["confusion"] as? [[Int]]), "case \(index)")
            for key in ["precision", "recall", "f1"] {
                let expected = try #require(c[key] as? [Double])
                let actual = key == "precision" ? m.precision : key == "recall" ? m.recall : m.f1
                for (a, e) in zip(actual, expected) { #expect(abs(a - e) < 1e-12, "case \(index) \(key)") }
            }
            #expect(abs(m.macroF1 - (try #require(c["macro_f1"] as? Double))) < 1e-12)
            #expect(abs(m.macroPrecision - (try #require(c["macro_precision"] as? Double))) < 1e-12)
            #expect(abs(m.macroRecall - (try #require(c["macro_recall"] as? Double))) < 1e-12)
            #expect(abs(m.accuracy - (try #require(c["accuracy"] as? Double))) < 1e-12)
            #expect(abs(m.ece - (try #require(c["ece"] as? Double))) < 1e-9, "case \(index) ece \(m.ece)")
        }
    }
}
