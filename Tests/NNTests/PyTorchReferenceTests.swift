// PyTorchReferenceTests: the whole Stage-2 and Stage-1 models against PyTorch — logits, loss, every gradient,
// BatchNorm running statistics and one AdamW step (fixture from scripts/fixtures/make_model_fixture.py).
import AblateSupport
import Foundation
import HDF5Kit
import NN
import Testing

/// Reference: Tests/NNTests/Fixtures/model_reference.h5, written by PyTorch from the research module tree at
/// backbone width 16 (llm.c-style: one forward/backward of the real model compared tensor by tensor).
@Suite("Whole model against PyTorch")
struct PyTorchReferenceTests {
    static func fixture() throws -> H5File {
        let url = try #require(
            Bundle.module.url(forResource: "model_reference", withExtension: "h5", subdirectory: "Fixtures"))
        return try H5File.open(url.path)
    }

    /// Copies every tensor and counter of `group` into the model; all must exist.
    static func load(_ group: H5Group, into model: PartitionModel) throws {
        for (index, entry) in model.store.entries.enumerated() {
            let values: [Float] = try group.dataset(entry.name).read()
            #expect(values.count == entry.count, "\(entry.name)")
            model.store.set(model.store.ref(at: index), values)
        }
        for (index, name) in model.store.counterNames.enumerated() {
            model.store.counters[index] = try group.dataset(name).read(as: Int64.self).first ?? -1
        }
    }

    static func compare(_ model: PartitionModel, gradients group: H5Group, rtol: Float, _ what: String) throws -> Int {
        var compared = 0
        for name in try group.memberNames() {
            let ref = try #require(model.store.ref(named: name), "\(name) missing in the Swift model")
            let expected: [Float] = try group.dataset(name).read()
            let actual = Array(UnsafeBufferPointer(start: model.store.gradients(ref), count: ref.count))
            let scale = expected.map(abs).max() ?? 1
            expectClose(actual, expected, atol: 1e-5 * max(scale, 1e-3), rtol: rtol, "\(what) gradient of \(name)")
            compared += 1
        }
        return compared
    }

    @Test func stage2() throws {
        let file = try Self.fixture()
        let g = try file.group("stage2")
        let model = PartitionModel(ModelConfig(stage: .stage2, width: 16), seed: 0)
        try Self.load(try g.group("initial"), into: model)
        let x = Tensor(shape: [8, 1, 16, 16], data: try file.dataset("input").read())
        let labels = try g.dataset("labels").read(as: Int64.self).map(Int.init)
        let weights = try g.dataset("class_weights").read(as: Float.self).map(Double.init)
        var random = PCG64(seed: 0)
        var cache = PartitionModel.Cache()
        model.store.zeroGradients()
        let logits = model.forward(
            x, mode: PartitionModel.Mode(backboneBN: .eval, adapterBN: .train, dropout: false), random: &random,
            cache: &cache)
        expectClose(logits.data, try g.dataset("logits").read(), atol: 2e-5, rtol: 1e-4, "stage-2 logits")
        let loss = Loss(kind: .cbFocal(gamma: 2, beta: 0.9999), classWeights: weights)
        let (value, gradient) = loss.evaluate(logits: logits, labels: labels)
        #expect(abs(value - (try g.realAttribute("loss"))) < 1e-5, "loss \(value)")
        model.backward(gradient, cache: cache)
        #expect(try Self.compare(model, gradients: try g.group("grad"), rtol: 2e-3, "stage 2") == 18)
        // Running statistics after the pass: adapter BN moved (unbiased variance), backbone BN untouched.
        let after = try g.group("after_forward")
        for entry in model.store.entries where entry.kind == .buffer {
            let ref = try #require(model.store.ref(named: entry.name))
            expectClose(
                model.store.array(ref), try after.dataset(entry.name).read(), atol: 1e-6, rtol: 1e-5, entry.name)
        }
        for (index, name) in model.store.counterNames.enumerated() {
            #expect(model.store.counters[index] == (try after.dataset(name).read(as: Int64.self).first), "\(name)")
        }
        let optimizer = AdamW(
            store: model.store,
            groups: [
                AdamW.Group(name: "adapters", prefix: "adapters.", learningRate: 1e-3),
                AdamW.Group(name: "head", prefix: "head.", learningRate: 1e-4),
            ])
        optimizer.update(model.store)
        // Adam's first step is ≈ lr · g / (|g| + ε): where |g| is within a few ε (1e-8) it is as sensitive as
        // the gradient's last bits, so those elements may differ by up to one learning rate; all others tightly.
        let stepped = try g.group("after_step")
        let pytorchGradients = try g.group("grad")
        for name in try stepped.memberNames() {
            let ref = try #require(model.store.ref(named: name))
            let actual = model.store.array(ref)
            let expected: [Float] = try stepped.dataset(name).read()
            let gradient: [Float] = try pytorchGradients.dataset(name).read()
            let lr: Float = name.hasPrefix("adapters.") ? 1e-3 : 1e-4
            var loose = 0
            var failures = 0
            for i in actual.indices {
                let d = abs(actual[i] - expected[i])
                if abs(gradient[i]) < 1e-6 {
                    loose += 1
                    if d > 1.05 * lr { failures += 1 }
                } else if d > 2e-6 + 1e-5 * abs(expected[i]) {
                    failures += 1
                }
            }
            #expect(
                failures == 0,
                "after AdamW step: \(name): \(failures) of \(actual.count) differ (\(loose) with |g| < 1e-6)")
        }
    }

    @Test func stage1() throws {
        let file = try Self.fixture()
        let g = try file.group("stage1")
        let model = PartitionModel(ModelConfig(stage: .stage1, width: 16), seed: 0)
        try Self.load(try g.group("initial"), into: model)
        let x = Tensor(shape: [8, 1, 16, 16], data: try file.dataset("input").read())
        let labels = try g.dataset("labels").read(as: Int64.self).map(Int.init)
        var random = PCG64(seed: 0)
        var cache = PartitionModel.Cache()
        model.store.zeroGradients()
        let logits = model.forward(
            x, mode: PartitionModel.Mode(backboneBN: .train, adapterBN: .train, dropout: false), random: &random,
            cache: &cache)
        expectClose(logits.data, try g.dataset("logits").read(), atol: 2e-5, rtol: 1e-4, "stage-1 logits")
        let (value, gradient) = Loss(kind: .focal(gamma: 2), classWeights: [1, 1]).evaluate(
            logits: logits, labels: labels)
        #expect(abs(value - (try g.realAttribute("loss"))) < 1e-5, "loss \(value)")
        model.backward(gradient, cache: cache)
        let compared = try Self.compare(model, gradients: try g.group("grad"), rtol: 5e-3, "stage 1")
        #expect(compared == model.store.entries.filter { $0.kind == .parameter }.count)
        let after = try g.group("after_forward")
        for entry in model.store.entries where entry.kind == .buffer {
            let ref = try #require(model.store.ref(named: entry.name))
            expectClose(
                model.store.array(ref), try after.dataset(entry.name).read(), atol: 1e-6, rtol: 1e-5, entry.name)
        }
    }
}
