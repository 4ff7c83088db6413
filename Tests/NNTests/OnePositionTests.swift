import Testing

// OnePositionTests: the lane loops that layers take on 1×1 maps against their plane loops, bit for bit.
@testable import NN

/// On 16×16 inputs layer4, its squeeze-excitation and the layer3/layer4 adapters see 1×1 maps, where every
/// per-plane loop has one element. There global average pooling, the SE gate and its gradient, and the adapters'
/// `h + α ⊙ Δ` and its gradient run in lanes of channels instead. Each is compared here with the plane loop it
/// replaces on the same `[N, C, 1, 1]` input, bit for bit (NaN, ±0, ±∞ and subnormals included), for channel
/// counts with and without a tail, at one and two threads, and on one case large enough to be split.
@Suite("One-position paths", .serialized)
struct OnePositionTests {
    static let shapes: [(n: Int, c: Int)] = [(3, 16), (70, 40), (70, 512)]

    static func tensor(_ n: Int, _ c: Int, seed: UInt64) -> Tensor {
        Tensor(shape: [n, c, 1, 1], data: PointwiseTests.values(n * c, seed: seed))
    }

    static func expectSame(
        _ fast: [Float], _ plain: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let differing = PointwiseTests.differing(fast, plain)
        #expect(
            differing == 0, "\(what): \(differing) of \(plain.count) elements differ", sourceLocation: sourceLocation)
    }

    static func forEachCase(_ body: (_ n: Int, _ c: Int, _ label: String) -> Void) {
        for width in [1, 2] {
            BLAS.setThreadCount(width)
            defer { BLAS.setThreadCount(1) }
            for (n, c) in shapes { body(n, c, "n \(n), c \(c), width \(width)") }
        }
    }

    @Test func globalAveragePooling() {
        Self.forEachCase { n, c, label in
            let x = Self.tensor(n, c, seed: 1)
            var lanesShape: [Int] = [], planesShape: [Int] = []
            Self.expectSame(
                GlobalAvgPool.forward(x, onePosition: true, shape: &lanesShape).data,
                GlobalAvgPool.forward(x, onePosition: false, shape: &planesShape).data, "GAP forward, \(label)")
            let dy = Tensor(shape: [n, c], data: PointwiseTests.values(n * c, seed: 2))
            Self.expectSame(
                GlobalAvgPool.backward(dy, inputShape: x.shape, onePosition: true).data,
                GlobalAvgPool.backward(dy, inputShape: x.shape, onePosition: false).data, "GAP backward, \(label)")
        }
    }

    @Test func squeezeExcitationGate() {
        Self.forEachCase { n, c, label in
            let x = Self.tensor(n, c, seed: 3),
                gate = Tensor(shape: [n, c], data: PointwiseTests.values(n * c, seed: 4))
            Self.expectSame(
                SqueezeExcitation.excite(x, gate: gate, onePosition: true).data,
                SqueezeExcitation.excite(x, gate: gate, onePosition: false).data, "SE forward, \(label)")
            let dy = Self.tensor(n, c, seed: 5)
            let fast = SqueezeExcitation.exciteBackward(dy, input: x, gate: gate, onePosition: true)
            let plain = SqueezeExcitation.exciteBackward(dy, input: x, gate: gate, onePosition: false)
            Self.expectSame(fast.dx.data, plain.dx.data, "SE dX before the squeeze, \(label)")
            Self.expectSame(fast.dGate, plain.dGate, "SE gate gradient, \(label)")
            let dSqueezed = Tensor(shape: [n, c], data: PointwiseTests.values(n * c, seed: 6))
            var fastSum = fast.dx, plainSum = plain.dx
            SqueezeExcitation.addSqueezeGradient(&fastSum, dSqueezed, onePosition: true)
            SqueezeExcitation.addSqueezeGradient(&plainSum, dSqueezed, onePosition: false)
            Self.expectSame(fastSum.data, plainSum.data, "SE dX, \(label)")
        }
    }

    @Test func adapterScaling() {
        Self.forEachCase { n, c, label in
            let h = Self.tensor(n, c, seed: 7), delta = Self.tensor(n, c, seed: 8), dy = Self.tensor(n, c, seed: 9)
            let alpha = PointwiseTests.values(c, seed: 10)
            alpha.withUnsafeBufferPointer { a in
                guard let ap = a.baseAddress else { return }
                Self.expectSame(
                    ConvAdapter.addScaled(h, delta: delta, alpha: ap, onePosition: true).data,
                    ConvAdapter.addScaled(h, delta: delta, alpha: ap, onePosition: false).data,
                    "adapter forward, \(label)")
                let start = PointwiseTests.values(c, seed: 11)
                var fastAlpha = start, plainAlpha = start
                let fast = fastAlpha.withUnsafeMutableBufferPointer {
                    ConvAdapter.scaledBackward(dy, delta: delta, alpha: ap, dAlpha: $0.baseAddress, onePosition: true)
                }
                let plain = plainAlpha.withUnsafeMutableBufferPointer {
                    ConvAdapter.scaledBackward(dy, delta: delta, alpha: ap, dAlpha: $0.baseAddress, onePosition: false)
                }
                Self.expectSame(fast.data, plain.data, "adapter dΔ, \(label)")
                Self.expectSame(fastAlpha, plainAlpha, "adapter dα, \(label)")
                let frozen = ConvAdapter.scaledBackward(dy, delta: delta, alpha: ap, dAlpha: nil, onePosition: true)
                Self.expectSame(frozen.data, plain.data, "adapter dΔ with α frozen, \(label)")
            }
        }
    }
}
