// Conv2dTests: the im2col + BLAS convolution against the plain-loop reference on odd shapes, and finite differences.
import NN
import Testing

@Suite("Conv2d")
struct Conv2dTests {
    struct Case: Sendable, CustomStringConvertible {
        var n, c, h, w, o, k, stride, padding, groups: Int
        var bias: Bool
        var description: String { "n\(n) c\(c) \(h)×\(w) o\(o) k\(k) s\(stride) p\(padding) g\(groups) bias \(bias)" }
    }

    static let cases: [Case] = [
        Case(n: 2, c: 3, h: 5, w: 7, o: 4, k: 3, stride: 2, padding: 1, groups: 1, bias: true),
        Case(n: 1, c: 1, h: 16, w: 16, o: 4, k: 7, stride: 2, padding: 3, groups: 1, bias: false),  // conv1's geometry
        Case(n: 3, c: 6, h: 4, w: 3, o: 9, k: 3, stride: 1, padding: 1, groups: 3, bias: true),
        // depth-wise on a 1×1 map
        Case(n: 2, c: 5, h: 1, w: 1, o: 5, k: 3, stride: 1, padding: 1, groups: 5, bias: false),
        Case(n: 2, c: 4, h: 2, w: 2, o: 6, k: 1, stride: 2, padding: 0, groups: 1, bias: false),  // 1×1 downsample
        Case(n: 1, c: 2, h: 6, w: 5, o: 1, k: 7, stride: 1, padding: 3, groups: 1, bias: false),  // spatial attention
        // layer4: centre tap only
        Case(n: 5, c: 6, h: 1, w: 1, o: 7, k: 3, stride: 1, padding: 1, groups: 1, bias: true),
        Case(n: 4, c: 5, h: 2, w: 2, o: 3, k: 3, stride: 1, padding: 1, groups: 1, bias: false),  // layer2: 4 of 9 taps
        // layer3.0.conv1: 2×2 → 1×1
        Case(n: 3, c: 4, h: 2, w: 2, o: 6, k: 3, stride: 2, padding: 1, groups: 1, bias: false),
        // layer2.0.conv1: 4×4 → 2×2
        Case(n: 2, c: 3, h: 4, w: 4, o: 5, k: 3, stride: 2, padding: 1, groups: 1, bias: true),
        // spatial attention on 1×1
        Case(n: 3, c: 2, h: 1, w: 1, o: 1, k: 7, stride: 1, padding: 3, groups: 1, bias: false),
        Case(n: 2, c: 6, h: 2, w: 2, o: 6, k: 3, stride: 1, padding: 1, groups: 6, bias: false),  // depth-wise on 2×2
    ]

    func make(_ t: Case, seed: UInt64) -> (ParameterStore, Conv2d, Tensor) {
        let store = ParameterStore()
        let conv = Conv2d(
            store, "conv", inChannels: t.c, outChannels: t.o, kernel: t.k, stride: t.stride, padding: t.padding,
            groups: t.groups, bias: t.bias)
        var random = TestRandom(seed)
        store.set(conv.weight, random.values(conv.weight.count))
        if let bias = conv.bias { store.set(bias, random.values(bias.count)) }
        return (store, conv, random.tensor([t.n, t.c, t.h, t.w]))
    }

    /// Both the im2col path and the tap-skipping small-map path match the plain loops.
    @Test(arguments: cases, [true, false])
    func blasMatchesReference(_ t: Case, smallMapPath: Bool) {
        let (store, conv, x) = make(t, seed: 7)
        conv.useSmallMapPath = smallMapPath
        let geometry = ReferenceConv.Geometry(
            inChannels: t.c, outChannels: t.o, kernel: t.k, stride: t.stride, padding: t.padding, groups: t.groups)
        var cache = Conv2d.Cache()
        let y = conv.forward(x, store, cache: &cache)
        let expected = ReferenceConv.forward(
            x, weight: store.array(conv.weight), bias: conv.bias.map(store.array), geometry)
        #expect(y.shape == expected.shape)
        expectClose(y.data, expected.data, atol: 1e-5, "forward \(t)")

        var random = TestRandom(99)
        let dy = random.tensor(y.shape)
        let dx = conv.backward(dy, store, cache: cache)
        let reference = ReferenceConv.backward(dy, input: x, weight: store.array(conv.weight), geometry)
        expectClose(dx.data, reference.dx.data, atol: 1e-5, "dX \(t)")
        expectClose(
            Array(UnsafeBufferPointer(start: store.gradients(conv.weight), count: conv.weight.count)), reference.dw,
            atol: 1e-4, "dW \(t)")
        if let bias = conv.bias {
            expectClose(
                Array(UnsafeBufferPointer(start: store.gradients(bias), count: bias.count)), reference.db, atol: 1e-4,
                "db \(t)")
        }
    }

    /// Finite differences of Σ r ⊙ conv(x) with respect to x, W and b.
    @Test(arguments: [cases[0], cases[2], cases[3], cases[6], cases[7], cases[8]])
    func finiteDifferences(_ t: Case) {
        let (store, conv, x) = make(t, seed: 3)
        var cache = Conv2d.Cache()
        let y = conv.forward(x, store, cache: &cache)
        var random = TestRandom(5)
        let r = random.values(y.count)
        let dx = conv.backward(Tensor(shape: y.shape, data: r), store, cache: cache)
        var input = x.data
        GradientCheck.check("dX \(t)", values: &input, analytic: dx.data) { values in
            var c = Conv2d.Cache()
            return GradientCheck.project(conv.forward(Tensor(shape: x.shape, data: values), store, cache: &c), r)
        }
        var weights = store.array(conv.weight)
        let dw = Array(UnsafeBufferPointer(start: store.gradients(conv.weight), count: conv.weight.count))
        GradientCheck.check("dW \(t)", values: &weights, analytic: dw) { values in
            store.set(conv.weight, values)
            var c = Conv2d.Cache()
            return GradientCheck.project(conv.forward(x, store, cache: &c), r)
        }
    }
}
