// GEMMBenchmark: sgemm GFLOP/s at the trainer's shapes on each own kernel path and on OpenBLAS (`ablate bench train`).
import Foundation
import NN

/// Achieved GFLOP/s of single products shaped like the training step's (research width 64, 16×16 blocks, batch
/// 128), on each supported own kernel path split over `threads` threads as `BLAS.sgemm` splits them, and on
/// OpenBLAS (`BLAS.referenceSGEMM`, one thread: the reference, for comparison). Each figure runs a shape for at
/// least `seconds` after one warm-up product.
public struct GEMMBenchmark {
    public var seconds: Double = 0.5
    public var threads = 1

    public init() {}

    /// One product shape: op(A) m × k, op(B) k × n.
    public struct Shape: Codable, Sendable, CustomStringConvertible {
        public var name: String
        public var m: Int, n: Int, k: Int
        public var transposeA: Bool, transposeB: Bool

        public var description: String {
            "\(name) \(m)×\(n)×\(k) \(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B")"
        }
    }

    /// One measured figure; `path` is a `GEMMKernel` name or "openblas".
    public struct Figure: Codable, Sendable {
        public var shape: String
        public var path: String
        public var threads: Int
        public var gflops: Double
    }

    /// The shapes: layer1's small-map convolution (per output position: 128 rows × 64 channels × 64·9) with its
    /// weight and input gradients, layer3's and layer4's 1×1-map convolutions, and layer4's weight gradient.
    public static let shapes: [Shape] = [
        Shape(name: "layer1 X·Wᵀ", m: 128, n: 64, k: 576, transposeA: false, transposeB: true),
        Shape(name: "layer1 dW", m: 64, n: 576, k: 128, transposeA: true, transposeB: false),
        Shape(name: "layer1 dX", m: 128, n: 576, k: 64, transposeA: false, transposeB: false),
        Shape(name: "layer3 X·Wᵀ", m: 128, n: 256, k: 1152, transposeA: false, transposeB: true),
        Shape(name: "layer4 X·Wᵀ", m: 128, n: 512, k: 512, transposeA: false, transposeB: true),
        Shape(name: "layer4 dW", m: 512, n: 512, k: 128, transposeA: true, transposeB: false),
        Shape(name: "stem conv", m: 64, n: 64, k: 49, transposeA: false, transposeB: false),
    ]

    /// Every shape on every supported path, then on OpenBLAS.
    public func run(log: (Figure) -> Void = { _ in }) -> [Figure] {
        let before = BLAS.threadCount
        BLAS.setThreadCount(threads)
        defer { BLAS.setThreadCount(before) }
        var figures: [Figure] = []
        let paths: [GEMMKernel?] = GEMMKernel.supported + [nil]
        for shape in Self.shapes {
            let a = Self.operand(shape.m * shape.k, seed: 1)
            let b = Self.operand(shape.k * shape.n, seed: 2)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: shape.m * shape.n)
            c.initialize(repeating: 0, count: shape.m * shape.n)
            defer {
                a.deallocate()
                b.deallocate()
                c.deallocate()
            }
            for path in paths {
                let product = {
                    if let path {
                        BLAS.sgemm(
                            kernel: path, transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m,
                            n: shape.n, k: shape.k, a: a, b: b, c: c)
                    } else {
                        BLAS.referenceSGEMM(
                            transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n,
                            k: shape.k, a: a, b: b, c: c)
                    }
                }
                product()
                let start = Date()
                var count = 0
                repeat {
                    product()
                    count += 1
                } while Date().timeIntervalSince(start) < seconds
                let elapsed = Date().timeIntervalSince(start)
                let figure = Figure(
                    shape: shape.description, path: path?.rawValue ?? "openblas", threads: path == nil ? 1 : threads,
                    gflops: 2 * Double(shape.m * shape.n * shape.k) * Double(count) / elapsed / 1e9)
                figures.append(figure)
                log(figure)
            }
        }
        return figures
    }

    /// `count` values in [-1, 1) from a fixed stream.
    static func operand(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
        var state = seed
        for index in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values[index] = Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        return values
    }
}
