// BlockGradientTests: finite-difference checks of the composite blocks (SE, spatial attention, BasicBlock, Conv-Adapter).
import NN
import Testing

@Suite("Block gradients")
struct BlockGradientTests {
    /// Checks dX and every parameter of a block given closures that run forward (returning Σ r ⊙ y) and backward.
    static func check(
        _ what: String, store: ParameterStore, x: Tensor, forward: (Tensor) -> Tensor, backward: (Tensor) -> Tensor,
        eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 3e-2, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var random = TestRandom(77)
        let y = forward(x)
        let r = random.values(y.count)
        store.zeroGradients()
        _ = forward(x)
        let dx = backward(Tensor(shape: y.shape, data: r))
        var input = x.data
        GradientCheck.check(
            "\(what) dX", values: &input, analytic: dx.data, eps: eps, atol: atol, rtol: rtol,
            sourceLocation: sourceLocation
        ) {
            GradientCheck.project(forward(Tensor(shape: x.shape, data: $0)), r)
        }
        for entry in store.entries where entry.trainable {
            guard let ref = store.ref(named: entry.name) else { continue }
            var values = store.array(ref)
            let analytic = Array(UnsafeBufferPointer(start: store.gradients(ref), count: ref.count))
            GradientCheck.check(
                "\(what) \(entry.name)", values: &values, analytic: analytic, eps: eps, atol: atol, rtol: rtol,
                samples: 15, sourceLocation: sourceLocation
            ) {
                store.set(ref, $0)
                return GradientCheck.project(forward(x), r)
            }
        }
    }

    static func randomize(_ store: ParameterStore, seed: UInt64, scale: Float = 0.5) {
        var random = TestRandom(seed)
        for entry in store.entries where entry.kind == .parameter {
            guard let ref = store.ref(named: entry.name) else { continue }
            store.set(
                ref,
                random.values(ref.count, scale: scale).map {
                    entry.name.hasSuffix("bn1.weight") || entry.name.hasSuffix("bn2.weight") ? 1 + $0 * 0.3 : $0
                })
        }
    }

    /// On 2×2 maps and on 1×1 maps (layer4's, which take the lane path).
    @Test(arguments: [2, 1])
    func squeezeExcitation(size: Int) {
        let store = ParameterStore()
        let se = SqueezeExcitation(store, "se", channels: 32)
        Self.randomize(store, seed: 1)
        var random = TestRandom(2)
        let x = random.tensor([3, 32, size, size])
        var cache = SqueezeExcitation.Cache()
        Self.check(
            "SE \(size)×\(size)", store: store, x: x, forward: { se.forward($0, store, cache: &cache) },
            backward: { se.backward($0, store, cache: cache) })
    }

    @Test func spatialAttention() {
        let store = ParameterStore()
        let attention = SpatialAttention(store, "sa")
        Self.randomize(store, seed: 3, scale: 0.3)
        var random = TestRandom(4)
        let x = random.tensor([2, 5, 3, 4], scale: 2)
        var cache = SpatialAttention.Cache()
        Self.check(
            "SpatialAttention", store: store, x: x, forward: { attention.forward($0, store, cache: &cache) },
            backward: { attention.backward($0, store, cache: cache) }, eps: 3e-3)
    }

    @Test(arguments: [BatchNorm2d.Mode.train, .eval])
    func basicBlock(mode: BatchNorm2d.Mode) {
        let store = ParameterStore()
        let block = BasicBlock(store, "block", inChannels: 3, outChannels: 4, stride: 2)
        Self.randomize(store, seed: 5)
        var random = TestRandom(6)
        let x = random.tensor([4, 3, 4, 4])
        var cache = BasicBlock.Cache()
        Self.check(
            "BasicBlock \(mode)", store: store, x: x, forward: { block.forward($0, store, bn: mode, cache: &cache) },
            backward: { block.backward($0, store, cache: cache) }, eps: 3e-3)
    }

    @Test func identityBasicBlock() {
        let store = ParameterStore()
        let block = BasicBlock(store, "block", inChannels: 4, outChannels: 4, stride: 1)
        Self.randomize(store, seed: 7)
        var random = TestRandom(8)
        let x = random.tensor([3, 4, 3, 3])
        var cache = BasicBlock.Cache()
        Self.check(
            "BasicBlock identity", store: store, x: x, forward: { block.forward($0, store, bn: .train, cache: &cache) },
            backward: { block.backward($0, store, cache: cache) }, eps: 3e-3)
    }

    /// On 2×2 maps, and on 1×1 maps (the research adapters' on 16×16 inputs, which take the lane paths) with 20
    /// channels, so that a lane vector and a tail are both checked.
    @Test(arguments: [(2, 8), (1, 20)])
    func convAdapter(size: Int, channels: Int) {
        let store = ParameterStore()
        let adapter = ConvAdapter(store, "adapter", channels: channels, reduction: 2)
        Self.randomize(store, seed: 9)
        var random = TestRandom(10)
        let x = random.tensor([4, channels, size, size])
        var cache = ConvAdapter.Cache()
        Self.check(
            "ConvAdapter \(size)×\(size)", store: store, x: x,
            forward: { adapter.forward($0, store, bn: .train, cache: &cache) },
            backward: { adapter.backward($0, store, cache: cache) }, eps: 3e-3)
    }

    /// The stem as the backbone runs it: conv 7×7/2 → BatchNorm (train) → ReLU → max-pool 3×3/2.
    @Test func stem() {
        let store = ParameterStore()
        let conv = Conv2d(store, "c", inChannels: 1, outChannels: 4, kernel: 7, stride: 2, padding: 3, bias: false)
        let bn = BatchNorm2d(store, "bn", channels: 4)
        let pool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        Self.randomize(store, seed: 3)
        var random = TestRandom(9)
        let x = Tensor(shape: [4, 1, 16, 16], data: random.values(4 * 256).map { ($0 + 1) / 2 })
        var convCache = Conv2d.Cache(), bnCache = BatchNorm2d.Cache(), poolCache = MaxPool2d.Cache()
        var activated = Tensor(zeros: [0])
        func forward(_ input: Tensor) -> Tensor {
            activated = ReLU.forward(
                bn.forward(conv.forward(input, store, cache: &convCache), store, mode: .train, cache: &bnCache))
            return pool.forward(activated, cache: &poolCache)
        }
        Self.check(
            "stem", store: store, x: x, forward: forward,
            backward: { dy in
                let dActivated = ReLU.backward(pool.backward(dy, cache: poolCache), output: activated)
                return conv.backward(bn.backward(dActivated, store, cache: bnCache), store, cache: convCache)
            })
    }
}
