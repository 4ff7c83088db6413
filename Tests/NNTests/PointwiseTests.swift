// PointwiseTests: the SIMD elementwise loops and BatchNorm's channel-lane path against plain scalar loops, bit for bit.
import AblateSupport
import NN
import Testing

/// The fast loops process 16 lanes at a time plus a scalar tail, split over the compute pool when large. Each is
/// compared here with the plain one-element-at-a-time formula it replaces, bit for bit, on lengths that leave
/// tails, on arrays large enough to be split over two threads, and on the values where a `max` or a comparison
/// could go either way: NaN, ±0, ±∞ and subnormals.
@Suite("Pointwise", .serialized)
struct PointwiseTests {
    static let specials: [Float] = [
        .nan, 0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        .leastNormalMagnitude / 3, -.leastNormalMagnitude / 3,
    ]

    /// `count` values in [−1, 1] with the special values spread through them.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = PCG64(seed: seed)
        var v = (0..<count).map { _ in Float(rng.bounded(2001)) / 1000 - 1 }
        for (i, special) in specials.enumerated() where count > 0 { v[(i * 7919) % count] = special }
        return v
    }

    static func differing(_ a: [Float], _ b: [Float]) -> Int {
        a.count != b.count ? max(a.count, b.count) : a.indices.filter { a[$0].bitPattern != b[$0].bitPattern }.count
    }

    /// Lengths with and without a tail, and one above `ComputePool.parallelMinimum` (split at width 2).
    static let lengths = [0, 1, 15, 16, 17, 100, ComputePool.parallelMinimum + 37]

    @Test func loopsEqualScalarFormulas() {
        for width in [1, 2] {
            BLAS.setThreadCount(width)
            defer { BLAS.setThreadCount(1) }
            for count in Self.lengths {
                let a = Self.values(count, seed: 1), b = Self.values(count, seed: 2)
                let checks: [(String, [Float], [Float])] = [
                    ("ReLU forward", ReLU.forward(Tensor(shape: [count], data: a)).data, a.map { max($0, 0) }),
                    (
                        "ReLU backward",
                        ReLU.backward(Tensor(shape: [count], data: a), output: Tensor(shape: [count], data: b)).data,
                        zip(a, b).map { $1 > 0 ? $0 : 0 }
                    ),
                    ("Sigmoid forward", Sigmoid.forward(Tensor(shape: [count], data: a)).data, a.map(Sigmoid.value)),
                    (
                        "Sigmoid backward",
                        Sigmoid.backward(Tensor(shape: [count], data: a), output: Tensor(shape: [count], data: b)).data,
                        zip(a, b).map { $0 * $1 * (1 - $1) }
                    ),
                    ("sum", Pointwise.sum(a, b), zip(a, b).map { $0 + $1 }),
                    ("sum through ReLU", Pointwise.sumReLU(a, b), zip(a, b).map { max($0 + $1, 0) }),
                    ("product", Pointwise.product(a, b), zip(a, b).map { $0 * $1 }),
                ]
                for (name, fast, plain) in checks {
                    #expect(
                        Self.differing(fast, plain) == 0,
                        "\(name), \(count) elements, width \(width): \(Self.differing(fast, plain)) differ")
                }
            }
        }
    }

    /// BatchNorm on 1×1 maps runs 16 channels per lane vector; in eval mode its output and input gradient must
    /// equal the scalar formulas y = γ·((x − μ)·s) + β and dX = (γ·s)·dY with s = 1/√(σ² + ε), for channel
    /// counts with and without a tail.
    @Test(arguments: [16, 40, 512])
    func batchNormChannelLanesEqualScalar(channels: Int) {
        let n = 70
        let store = ParameterStore()
        let bn = BatchNorm2d(store, "bn", channels: channels)
        for (ref, seed) in [(bn.weight, 3), (bn.bias, 4), (bn.runningMean, 5)] {
            let v = Self.values(channels, seed: UInt64(seed)).map { $0.isFinite ? $0 : 0.5 }
            for i in 0..<channels { store.values(ref)[i] = v[i] }
        }
        for i in 0..<channels { store.values(bn.runningVar)[i] = 0.5 + Float(i % 9) / 4 }
        let x = Self.values(n * channels, seed: 6), dy = Self.values(n * channels, seed: 7)
        for width in [1, 2] {
            BLAS.setThreadCount(width)
            defer { BLAS.setThreadCount(1) }
            var cache = BatchNorm2d.Cache()
            let y = bn.forward(Tensor(shape: [n, channels, 1, 1], data: x), store, mode: .eval, cache: &cache)
            let dx = bn.backward(Tensor(shape: [n, channels, 1, 1], data: dy), store, cache: cache)
            var plainY = [Float](repeating: 0, count: x.count), plainDx = plainY
            for b in 0..<n {
                for ch in 0..<channels {
                    let s = 1 / (store.values(bn.runningVar)[ch] + bn.eps).squareRoot()
                    let gamma = store.values(bn.weight)[ch]
                    let xhat = (x[b * channels + ch] - store.values(bn.runningMean)[ch]) * s
                    plainY[b * channels + ch] = gamma * xhat + store.values(bn.bias)[ch]
                    plainDx[b * channels + ch] = (gamma * s) * dy[b * channels + ch]
                }
            }
            #expect(
                Self.differing(y.data, plainY) == 0,
                "\(channels) channels, width \(width): \(Self.differing(y.data, plainY)) outputs differ")
            #expect(
                Self.differing(dx.data, plainDx) == 0,
                "\(channels) channels, width \(width): \(Self.differing(dx.data, plainDx)) gradients differ")
        }
    }
}
