// LayerGradientTests: finite-difference checks for BatchNorm2d (both modes), Linear, ReLU, Sigmoid, pooling and dropout.
import AblateSupport
import NN
import Testing

@Suite("Layer gradients")
struct LayerGradientTests {
    @Test(arguments: [BatchNorm2d.Mode.train, .eval])
    func batchNorm(mode: BatchNorm2d.Mode) {
        let store = ParameterStore()
        let bn = BatchNorm2d(store, "bn", channels: 3)
        var random = TestRandom(1)
        store.set(bn.weight, random.values(3, scale: 2))
        store.set(bn.bias, random.values(3))
        store.set(bn.runningMean, random.values(3, scale: 0.5))
        store.set(bn.runningVar, random.values(3).map { 1 + abs($0) })
        let x = random.tensor([4, 3, 2, 3], scale: 3)
        let r = random.values(x.count)
        let statistics = (store.array(bn.runningMean), store.array(bn.runningVar))
        func run(_ input: [Float]) -> Double {
            var cache = BatchNorm2d.Cache()
            let y = bn.forward(Tensor(shape: x.shape, data: input), store, mode: mode, cache: &cache)
            store.set(bn.runningMean, statistics.0)  // keep the running statistics fixed across evaluations
            store.set(bn.runningVar, statistics.1)
            return GradientCheck.project(y, r)
        }
        var cache = BatchNorm2d.Cache()
        _ = bn.forward(x, store, mode: mode, cache: &cache)
        store.set(bn.runningMean, statistics.0)
        store.set(bn.runningVar, statistics.1)
        let dx = bn.backward(Tensor(shape: x.shape, data: r), store, cache: cache)
        var input = x.data
        GradientCheck.check("BN \(mode) dX", values: &input, analytic: dx.data, eps: 1e-2, loss: run)
        var gamma = store.array(bn.weight)
        let dGamma = Array(UnsafeBufferPointer(start: store.gradients(bn.weight), count: 3))
        GradientCheck.check("BN \(mode) dγ", values: &gamma, analytic: dGamma) { values in
            store.set(bn.weight, values)
            return run(x.data)
        }
        var beta = store.array(bn.bias)
        let dBeta = Array(UnsafeBufferPointer(start: store.gradients(bn.bias), count: 3))
        GradientCheck.check("BN \(mode) dβ", values: &beta, analytic: dBeta) { values in
            store.set(bn.bias, values)
            return run(x.data)
        }
    }

    /// Train mode updates running statistics with momentum 0.1 and the unbiased variance; eval mode leaves them bitwise unchanged.
    @Test func batchNormRunningStatistics() {
        let store = ParameterStore()
        let bn = BatchNorm2d(store, "bn", channels: 2)
        let x = Tensor(shape: [2, 2, 1, 2], data: [1, 2, 10, 20, 3, 6, 30, 40])
        var cache = BatchNorm2d.Cache()
        _ = bn.forward(x, store, mode: .train, cache: &cache)
        // channel 0: 1, 2, 3, 6 → mean 3, unbiased var 14/3; channel 1: 10, 20, 30, 40 → mean 25, unbiased var 500/3
        expectClose(store.array(bn.runningMean), [0.3, 2.5], atol: 1e-6, "running mean")
        expectClose(store.array(bn.runningVar), [0.9 + 0.1 * 14 / 3, 0.9 + 0.1 * 500 / 3], atol: 1e-5, "running var")
        #expect(store.counters[bn.batchesTracked] == 1)
        let before = (store.array(bn.runningMean), store.array(bn.runningVar))
        _ = bn.forward(x, store, mode: .eval, cache: &cache)
        #expect(store.array(bn.runningMean) == before.0)
        #expect(store.array(bn.runningVar) == before.1)
        #expect(store.counters[bn.batchesTracked] == 1)
    }

    @Test func linear() throws {
        let store = ParameterStore()
        let linear = Linear(store, "fc", inFeatures: 5, outFeatures: 3)
        var random = TestRandom(2)
        store.set(linear.weight, random.values(15))
        let bias = try #require(linear.bias)
        store.set(bias, random.values(3))
        let x = random.tensor([4, 5])
        let r = random.values(12)
        var cache = Linear.Cache()
        _ = linear.forward(x, store, cache: &cache)
        let dx = linear.backward(Tensor(shape: [4, 3], data: r), store, cache: cache)
        var input = x.data
        GradientCheck.check("Linear dX", values: &input, analytic: dx.data) { values in
            var c = Linear.Cache()
            return GradientCheck.project(linear.forward(Tensor(shape: x.shape, data: values), store, cache: &c), r)
        }
        var weights = store.array(linear.weight)
        let dw = Array(UnsafeBufferPointer(start: store.gradients(linear.weight), count: 15))
        GradientCheck.check("Linear dW", values: &weights, analytic: dw) { values in
            store.set(linear.weight, values)
            var c = Linear.Cache()
            return GradientCheck.project(linear.forward(x, store, cache: &c), r)
        }
        // Plain-loop reference of the forward pass.
        store.set(linear.weight, weights)
        var c = Linear.Cache()
        let y = linear.forward(x, store, cache: &c)
        let b = store.array(bias)
        var expected = [Float](repeating: 0, count: 12)
        for i in 0..<4 {
            for o in 0..<3 {
                var sum = Double(b[o])
                for k in 0..<5 { sum += Double(x.data[i * 5 + k]) * Double(weights[o * 5 + k]) }
                expected[i * 3 + o] = Float(sum)
            }
        }
        expectClose(y.data, expected, atol: 1e-6, "Linear forward vs loops")
    }

    @Test func pointwiseActivations() {
        var random = TestRandom(3)
        // ReLU: keep inputs away from the kink at 0.
        let x = Tensor(shape: [3, 7], data: random.values(21, scale: 2).map { abs($0) < 0.05 ? $0 + 0.2 : $0 })
        let r = random.values(21)
        let relu = ReLU.forward(x)
        var input = x.data
        GradientCheck.check(
            "ReLU", values: &input, analytic: ReLU.backward(Tensor(shape: x.shape, data: r), output: relu).data,
            eps: 1e-3
        ) {
            GradientCheck.project(ReLU.forward(Tensor(shape: x.shape, data: $0)), r)
        }
        let sigmoid = Sigmoid.forward(x)
        GradientCheck.check(
            "Sigmoid", values: &input,
            analytic: Sigmoid.backward(Tensor(shape: x.shape, data: r), output: sigmoid).data, eps: 1e-3
        ) {
            GradientCheck.project(Sigmoid.forward(Tensor(shape: x.shape, data: $0)), r)
        }
        #expect(Sigmoid.value(-100) > 0 && Sigmoid.value(-100) < 1e-30)
        #expect(Sigmoid.value(100) == 1)
    }

    @Test func pooling() {
        var random = TestRandom(4)
        let x = random.tensor([2, 3, 5, 6], scale: 3)
        let pool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        var cache = MaxPool2d.Cache()
        let y = pool.forward(x, cache: &cache)
        #expect(y.shape == [2, 3, 3, 3])
        let r = random.values(y.count)
        var input = x.data
        GradientCheck.check(
            "MaxPool2d", values: &input, analytic: pool.backward(Tensor(shape: y.shape, data: r), cache: cache).data,
            eps: 1e-3
        ) {
            var c = MaxPool2d.Cache()
            return GradientCheck.project(pool.forward(Tensor(shape: x.shape, data: $0), cache: &c), r)
        }
        let gap = GlobalAvgPool.forward(x)
        #expect(gap.shape == [2, 3])
        #expect(abs(gap.data[0] - x.data[0..<30].reduce(0, +) / 30) < 1e-6)
        let r2 = random.values(6)
        GradientCheck.check(
            "GlobalAvgPool", values: &input,
            analytic: GlobalAvgPool.backward(Tensor(shape: [2, 3], data: r2), inputShape: x.shape).data
        ) {
            GradientCheck.project(GlobalAvgPool.forward(Tensor(shape: x.shape, data: $0)), r2)
        }
    }

    @Test func dropout() {
        let dropout = Dropout(probability: 0.4)
        var random = TestRandom(5)
        let x = random.tensor([64, 50])
        var generator = PCG64(seed: 9)
        var cache = Dropout.Cache()
        let y = dropout.forward(x, training: true, random: &generator, cache: &cache)
        #expect(y.data == zip(x.data, cache.mask).map(*))
        let dropped = cache.mask.filter { $0 == 0 }.count
        #expect(
            abs(Double(dropped) / Double(x.count) - 0.4) < 0.03, "dropped share \(Double(dropped) / Double(x.count))")
        #expect(cache.mask.allSatisfy { $0 == 0 || abs($0 - 1 / 0.6) < 1e-6 })
        let r = random.values(x.count)
        let dx = dropout.backward(Tensor(shape: x.shape, data: r), cache: cache)
        var input = x.data
        GradientCheck.check("Dropout (fixed mask)", values: &input, analytic: dx.data) { values in
            var g = PCG64(seed: 9)
            var c = Dropout.Cache()
            return GradientCheck.project(
                dropout.forward(Tensor(shape: x.shape, data: values), training: true, random: &g, cache: &c), r)
        }
        var g2 = PCG64(seed: 9)
        #expect(dropout.forward(x, training: false, random: &g2, cache: &cache) == x)
    }
}
