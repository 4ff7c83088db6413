// Activations: ReLU and Sigmoid, forward and backward (pointwise; cache the output).
import Foundation

/// `torch.nn.ReLU`: max(x, 0); the gradient passes where the output is positive.
public enum ReLU {
    public static func forward(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: elementwise(x.data, x.data) { input, _, out, range in
            for i in range { out[i] = max(input[i], 0) }
        })
    }

    /// `output` is the forward result.
    public static func backward(_ dy: Tensor, output: Tensor) -> Tensor {
        Tensor(shape: dy.shape, data: elementwise(dy.data, output.data) { gradient, forward, out, range in
            for i in range { out[i] = forward[i] > 0 ? gradient[i] : 0 }
        })
    }

    /// A new array filled by `loop(a, b, out, range)` over ranges of the elements, split over
    /// `ComputePool.shared` when large.
    static func elementwise(
        _ a: [Float], _ b: [Float],
        _ loop: @escaping (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, Range<Int>) -> Void
    ) -> [Float] {
        [Float](unsafeUninitializedCapacity: a.count) { out, initialized in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    let out = out
                    ComputePool.shared.forRanges(a.count, parallel: a.count >= ComputePool.parallelMinimum) { range in
                        loop(ap, bp, out, range)
                    }
                }
            }
            initialized = a.count
        }
    }
}

/// `torch.nn.Sigmoid`: 1 / (1 + e^−x); dσ = σ(1 − σ).
public enum Sigmoid {
    public static func forward(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map(value))
    }

    /// A numerically stable logistic function.
    @inline(__always)
    public static func value(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// `output` is the forward result.
    public static func backward(_ dy: Tensor, output: Tensor) -> Tensor {
        Tensor(shape: dy.shape, data: zip(dy.data, output.data).map { $0 * $1 * (1 - $1) })
    }
}
