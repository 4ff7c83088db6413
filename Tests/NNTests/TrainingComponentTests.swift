// TrainingComponentTests: AdamW, ReduceLROnPlateau, early stopping and metrics against the NumPy reference.
import Foundation
import NN
import Testing

/// Reference: Tests/NNTests/Fixtures/training.json from scripts/fixtures/make_training_fixture.py.
@Suite("Training components")
struct TrainingComponentTests {
    static func fixture() throws -> [String: Any] {
        let url = try #require(
            Bundle.module.url(forResource: "training", withExtension: "json", subdirectory: "Fixtures"))
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
        let optimizer = AdamW(
            store: store,
            groups: [
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
            expectClose(
                store.array(a), trajectory[step][0].map(Float.init), atol: 1e-7, rtol: 1e-6,
                "adapters after step \(step + 1)")
            expectClose(
                store.array(h), trajectory[step][1].map(Float.init), atol: 1e-7, rtol: 1e-6,
                "head after step \(step + 1)")
        }
    }

    /// The 8-lane update against the plain loop of PyTorch's single-tensor AdamW, bitwise, on a tensor whose
    /// length (37) leaves a scalar tail, over five steps of varied gradients (zeros and tiny values included).
    @Test func adamWLanesEqualThePlainLoop() {
        let store = ParameterStore()
        let x = store.add("adapters.x", shape: [37])
        store.set(x, (0..<37).map { Float($0) * 0.03 - 0.5 })
        let optimizer = AdamW(
            store: store, groups: [AdamW.Group(name: "adapters", prefix: "adapters.", learningRate: 1e-3)])
        var p = store.array(x), m = [Float](repeating: 0, count: 37), v = m
        for step in 1...5 {
            let g: [Float] = (0..<37).map { (i: Int) -> Float in
                if i % 7 == 0 { return 0 }
                if i % 5 == 0 { return 1e-21 }
                return Float(i - 18) * 0.01 * Float(step)
            }
            store.zeroGradients()
            for (i, value) in g.enumerated() { store.gradients(x)[i] = value }
            optimizer.update(store)
            let c1 = Float(1 - Foundation.pow(0.9, Double(step)))
            let c2 = Float((1 - Foundation.pow(0.999, Double(step))).squareRoot())
            let lr: Float = 1e-3, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
            for i in 0..<37 {
                p[i] *= 1 - lr * 0.01
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                if abs(m[i]) < Float.leastNormalMagnitude { m[i] = 0 }
                if v[i] < Float.leastNormalMagnitude { v[i] = 0 }
                let denominator: Float = v[i].squareRoot() / c2 + eps
                p[i] -= lr / c1 * m[i] / denominator
            }
            let actual = store.array(x)
            let differing = (0..<37).filter { actual[$0].bitPattern != p[$0].bitPattern }
            #expect(differing.isEmpty, "step \(step): elements \(differing) differ from the plain loop")
        }
    }

    /// A first moment left to decay (gradient zero after one step) reaches exactly zero instead of sticking at
    /// the smallest subnormal, as plain IEEE arithmetic would (0.9 × 1.4·10⁻⁴⁵ rounds back to 1.4·10⁻⁴⁵).
    @Test func adamWMomentsDoNotStickInTheSubnormalRange() {
        let store = ParameterStore()
        let x = store.add("adapters.x", shape: [20])
        let optimizer = AdamW(
            store: store, groups: [AdamW.Group(name: "adapters", prefix: "adapters.", learningRate: 1e-3)])
        for step in 0..<1200 {
            store.zeroGradients()
            if step == 0 { for i in 0..<20 { store.gradients(x)[i] = 1e-3 } }
            optimizer.update(store)
        }
        let moments = (0..<20).map { optimizer.firstMoment[x.offset + $0] }
        #expect(moments.allSatisfy { $0 == 0 }, "first moments after 1,199 zero gradients: \(moments.prefix(3))")
        #expect(
            Float(0.9) * Float.leastNonzeroMagnitude == Float.leastNonzeroMagnitude, "the rounding this guards against")
    }

    /// `zeroGradients` clears trainable tensors only; freezing or unfreezing a tensor clears its gradient.
    @Test func zeroGradientsSkipsFrozenTensors() {
        let store = ParameterStore()
        let a = store.add("adapters.a", shape: [3])
        let f = store.add("backbone.f", shape: [2])
        let h = store.add("head.h", shape: [2])
        for ref in [a, f, h] { for i in 0..<ref.count { store.gradients(ref)[i] = 1 } }
        store.setTrainable(false, prefix: "backbone.")
        #expect((0..<2).allSatisfy { store.gradients(f)[$0] == 0 })
        store.gradients(f)[0] = 5
        store.zeroGradients()
        #expect(
            (0..<3).allSatisfy { store.gradients(a)[$0] == 0 } && (0..<2).allSatisfy { store.gradients(h)[$0] == 0 })
        #expect(store.gradients(f)[0] == 5, "a frozen tensor's gradient is not rewritten")
        store.setTrainable(true, prefix: "backbone.")
        #expect(store.gradients(f)[0] == 0, "unfreezing clears the gradient")
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
            for (r, e) in zip(rates, expectedRates[index]) {
                #expect(abs(r - e) <= 1e-15, "epoch \(index + 1): \(rates) vs \(expectedRates[index])")
            }
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
