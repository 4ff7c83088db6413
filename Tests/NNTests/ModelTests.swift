// ModelTests: exact parameter counts of the research models, state_dict names, whole-model gradients, BN freezing.
import AblateSupport
import NN
import Testing

@Suite("Models")
struct ModelTests {
    /// The research model's parameter counts (backbone, and the Stage-2 adapter model), as its own code prints them.
    @Test func researchParameterCounts() {
        let stage2 = PartitionModel(ModelConfig(stage: .stage2, adapterReduction: 4), seed: 1)
        #expect(stage2.store.parameterCounts.total == 11_545_189)
        #expect(stage2.store.parameterCounts.trainable == 331_331)
        let wide = PartitionModel(ModelConfig(stage: .stage2, adapterReduction: 2), seed: 1)
        #expect(wide.store.parameterCounts.total == 11_711_141)
        #expect(wide.store.parameterCounts.trainable == 497_283)
        let backboneOnly = stage2.store.entries.filter { $0.kind == .parameter && $0.name.hasPrefix("backbone.") }
        #expect(backboneOnly.reduce(0) { $0 + $1.count } == 11_213_858)
        let adapters = stage2.store.entries.filter { $0.kind == .parameter && $0.name.hasPrefix("adapters.") }
        #expect(adapters.filter { $0.name.hasPrefix("adapters.layer3.") }.reduce(0) { $0 + $1.count } == 33_728)
        #expect(adapters.filter { $0.name.hasPrefix("adapters.layer4.") }.reduce(0) { $0 + $1.count } == 132_992)
        let gamma8 = PartitionModel(ModelConfig(stage: .stage2, adapterReduction: 8), seed: 1)
        #expect(
            gamma8.store.entries.filter { $0.name.hasPrefix("adapters.") && $0.kind == .parameter }.reduce(0) {
                $0 + $1.count
            } == 83_744)
        #expect(stage2.store.entries.filter { $0.name.hasPrefix("head.") }.reduce(0) { $0 + $1.count } == 164_611)
    }

    /// Names and shapes are the PyTorch state_dict keys of the research module tree, in PyTorch layouts.
    @Test func stateDictNames() throws {
        let model = PartitionModel(ModelConfig(stage: .stage2), seed: 1)
        let shapes = Dictionary(uniqueKeysWithValues: model.store.entries.map { ($0.name, $0.shape) })
        #expect(shapes["backbone.conv1.weight"] == [64, 1, 7, 7])
        #expect(shapes["backbone.layer2.0.downsample.0.weight"] == [128, 64, 1, 1])
        #expect(shapes["backbone.layer2.0.downsample.1.running_var"] == [128])
        #expect(shapes["backbone.layer4.1.conv2.weight"] == [512, 512, 3, 3])
        #expect(shapes["backbone.se3.excitation.0.weight"] == [16, 256])
        #expect(shapes["backbone.se3.excitation.2.weight"] == [256, 16])
        #expect(shapes["backbone.spatial_attn.conv.weight"] == [1, 2, 7, 7])
        #expect(shapes["adapters.layer3.down_proj.weight"] == [64, 256, 1, 1])
        #expect(shapes["adapters.layer3.dw_conv.weight"] == [64, 1, 3, 3])
        #expect(shapes["adapters.layer4.up_proj.weight"] == [512, 128, 1, 1])
        #expect(shapes["adapters.layer3.alpha"] == [256])
        #expect(shapes["adapters.layer3.bn.running_mean"] == [64])
        #expect(shapes["head.head.0.weight"] == [256, 512])
        #expect(shapes["head.head.3.weight"] == [128, 256])
        #expect(shapes["head.head.6.bias"] == [3])
        #expect(shapes["backbone.layer1.0.downsample.0.weight"] == nil, "layer1 keeps width and stride: no downsample")
        #expect(model.store.counterNames.contains("backbone.bn1.num_batches_tracked"))
        #expect(model.store.counterNames.contains("adapters.layer4.bn.num_batches_tracked"))
        // 20 BatchNorms in ResNet-18 (incl. 3 downsample BNs) + 2 adapter BNs.
        #expect(model.store.counterNames.count == 22)
        // Adapter init: α = 1, adapter convs ≈ Kaiming(fan_out) × 0.01.
        let alpha = try #require(model.store.ref(named: "adapters.layer4.alpha"))
        #expect(model.store.array(alpha).allSatisfy { $0 == 1 })
        let down = try #require(model.store.ref(named: "adapters.layer3.down_proj.weight"))
        let values = model.store.array(down)
        let std = (values.reduce(0) { $0 + Double($1 * $1) } / Double(values.count)).squareRoot()
        #expect(abs(std - 0.01 * (2.0 / 64).squareRoot()) < 0.0003, "down_proj std \(std)")
    }

    /// Accumulates the gradients of `Σ r ⊙ logits` once (from zero) and returns that loss as a function of the
    /// model's current tensors, for finite differences.
    static func backwardOnce(_ model: PartitionModel, _ x: Tensor, mode: PartitionModel.Mode, projection r: [Float])
        -> () -> Double
    {
        var generator = PCG64(seed: 1)
        var cache = PartitionModel.Cache()
        model.store.zeroGradients()
        let logits = model.forward(x, mode: mode, random: &generator, cache: &cache)
        model.backward(Tensor(shape: logits.shape, data: r), cache: cache)
        return {
            var generator = PCG64(seed: 1)
            var cache = PartitionModel.Cache()
            return GradientCheck.project(model.forward(x, mode: mode, random: &generator, cache: &cache), r)
        }
    }

    /// Whole Stage-2 model (narrow backbone): finite differences on adapter and head tensors through the frozen layer4.
    @Test func stage2ModelGradients() throws {
        let model = PartitionModel(ModelConfig(stage: .stage2, width: 16), seed: 3)
        // Give the adapters non-trivial weights so their gradients are well above finite-difference noise.
        var random = TestRandom(8)
        for name in [
            "adapters.layer3.down_proj.weight", "adapters.layer3.up_proj.weight", "adapters.layer3.dw_conv.weight",
            "adapters.layer4.up_proj.weight",
        ] {
            let ref = try #require(model.store.ref(named: name))
            model.store.set(ref, random.values(ref.count, scale: 0.5))
        }
        let x = Tensor(shape: [3, 1, 16, 16], data: random.values(768).map { ($0 + 1) / 2 })
        let mode = PartitionModel.Mode(backboneBN: .eval, adapterBN: .train, dropout: false)
        let r = random.values(9)
        let loss = Self.backwardOnce(model, x, mode: mode, projection: r)
        for name in [
            "adapters.layer3.up_proj.weight", "adapters.layer3.alpha", "adapters.layer3.bn.weight",
            "adapters.layer4.down_proj.weight", "head.head.0.weight", "head.head.6.bias",
        ] {
            let ref = try #require(model.store.ref(named: name))
            var values = model.store.array(ref)
            let analytic = Array(UnsafeBufferPointer(start: model.store.gradients(ref), count: ref.count))
            GradientCheck.check(
                name, values: &values, analytic: analytic, eps: 1e-2, atol: 2e-3, rtol: 3e-2, samples: 12
            ) { v in
                model.store.set(ref, v)
                return loss()
            }
        }
        // Frozen tensors receive no gradient.
        let frozen = try #require(model.store.ref(named: "backbone.layer4.1.conv2.weight"))
        #expect(UnsafeBufferPointer(start: model.store.gradients(frozen), count: frozen.count).allSatisfy { $0 == 0 })
    }

    /// Stage 1 trains the whole backbone with BatchNorm in train mode. The loss is rough in the stem's weights
    /// (every kink downstream moves with them), so this uses directional derivatives, which average over all
    /// coordinates, on tensors from layer1 to the head; the stem's composition is checked in `BlockGradientTests.stem`.
    @Test func stage1ModelGradients() throws {
        let model = PartitionModel(ModelConfig(stage: .stage1, width: 16), seed: 4)
        var random = TestRandom(9)
        // 64×64 inputs keep every map ≥ 2×2, so train-mode BatchNorm normalises ≥ 32 values per channel.
        let x = Tensor(shape: [8, 1, 64, 64], data: random.values(8 * 4096).map { ($0 + 1) / 2 })
        let mode = PartitionModel.Mode(backboneBN: .train, adapterBN: .train, dropout: false)
        let r = random.values(16)
        let loss = Self.backwardOnce(model, x, mode: mode, projection: r)
        for name in [
            "backbone.layer1.0.conv1.weight", "backbone.layer2.0.downsample.0.weight", "backbone.layer3.1.bn2.weight",
            "backbone.se2.excitation.0.weight", "backbone.spatial_attn.conv.weight", "head.head.0.weight",
        ] {
            let ref = try #require(model.store.ref(named: name))
            let original = model.store.array(ref)
            let analytic = Array(UnsafeBufferPointer(start: model.store.gradients(ref), count: ref.count))
            let v = random.values(ref.count)
            let norm = Float(v.reduce(0) { $0 + Double($1 * $1) }.squareRoot())
            let direction = v.map { $0 / norm }
            let exact = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let h: Float = 1e-3
            model.store.set(ref, zip(original, direction).map { $0 + h * $1 })
            let plus = loss()
            model.store.set(ref, zip(original, direction).map { $0 - h * $1 })
            let minus = loss()
            model.store.set(ref, original)
            let numeric = (plus - minus) / Double(2 * h)
            #expect(
                abs(numeric - exact) <= 2e-3 + 0.05 * abs(exact),
                "\(name): directional derivative analytic \(exact) numeric \(numeric)")
        }
    }

    /// `backbone_bn: eval` leaves the backbone's running statistics bitwise unchanged; `train` moves them.
    @Test func backboneBatchNormMode() throws {
        for (mode, shouldMove) in [(BatchNorm2d.Mode.eval, false), (.train, true)] {
            let model = PartitionModel(ModelConfig(stage: .stage2, width: 16), seed: 5)
            let ref = try #require(model.store.ref(named: "backbone.layer3.1.bn2.running_mean"))
            let adapterRef = try #require(model.store.ref(named: "adapters.layer3.bn.running_var"))
            let before = model.store.array(ref)
            let adapterBefore = model.store.array(adapterRef)
            var random = TestRandom(1)
            var generator = PCG64(seed: 2)
            var cache = PartitionModel.Cache()
            for _ in 0..<2 {
                let x = Tensor(shape: [8, 1, 16, 16], data: random.values(2048).map { ($0 + 1) / 2 })
                let y = model.forward(
                    x, mode: PartitionModel.Mode(backboneBN: mode, adapterBN: .train, dropout: true),
                    random: &generator, cache: &cache)
                model.backward(Tensor(shape: y.shape, data: random.values(y.count)), cache: cache)
            }
            #expect((model.store.array(ref) != before) == shouldMove, "backbone BN \(mode)")
            #expect(model.store.array(adapterRef) != adapterBefore, "adapter BN always trains")
        }
    }

    /// Eval-mode forward passes are per-row functions: a row's prefix output and logits are bitwise the same in
    /// any batch (OpenBLAS edge kernels would otherwise change the last bits with the batch size). The
    /// frozen-prefix cache relies on this.
    @Test func forwardIsPerRow() throws {
        let model = PartitionModel(ModelConfig(stage: .stage2, width: 16), seed: 3)
        var random = TestRandom(4)
        let x = Tensor(shape: [64, 1, 16, 16], data: random.values(64 * 256).map { ($0 + 1) / 2 })
        var cache = PartitionModel.Cache()
        var generator = PCG64(seed: 1)
        let wholePrefix = try #require(model.forwardPrefix(x, cache: &cache))
        let wholeLogits = model.forward(x, mode: .evaluation, random: &generator, cache: &cache)
        let featureSize = wholePrefix.count / 64
        for size in [1, 7, 24, 33] {
            let part = Tensor(shape: [size, 1, 16, 16], data: Array(x.data[0..<(size * 256)]))
            let prefix = try #require(model.forwardPrefix(part, cache: &cache))
            #expect(prefix.data == Array(wholePrefix.data[0..<(size * featureSize)]), "prefix, batch \(size)")
            let logits = model.forward(part, mode: .evaluation, random: &generator, cache: &cache)
            #expect(logits.data == Array(wholeLogits.data[0..<(size * 3)]), "logits, batch \(size)")
            let fromPrefix = try #require(
                model.forward(prefixOutput: prefix, mode: .evaluation, random: &generator, cache: &cache))
            #expect(fromPrefix.data == logits.data, "logits from the prefix output, batch \(size)")
        }
    }
}
