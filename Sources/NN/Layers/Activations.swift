// Activations: ReLU and Sigmoid, forward and backward (pointwise; cache the output).
import Foundation

/// `torch.nn.ReLU`: max(x, 0); the gradient passes where the output is positive.
public enum ReLU {
    public static func forward(_ x: Tensor) -> Tensor {
        Tensor(
            shape: x.shape,
            data: Pointwise.map(x.data, x.data) { input, _, out, range in
                var i = range.lowerBound
                while i + Pointwise.laneCount <= range.upperBound {
                    var v = Pointwise.load(input, i)
                    // As `max(x, 0)`: +0 for x ≤ 0 (−0 included), NaN kept.
                    v.replace(with: 0, where: v .<= 0)
                    Pointwise.store(v, out, i)
                    i += Pointwise.laneCount
                }
                while i < range.upperBound {
                    out[i] = max(input[i], 0)
                    i += 1
                }
            })
    }

    /// `output` is the forward result.
    public static func backward(_ dy: Tensor, output: Tensor) -> Tensor {
        Tensor(
            shape: dy.shape,
            data: Pointwise.map(dy.data, output.data) { gradient, forward, out, range in
                var i = range.lowerBound
                while i + Pointwise.laneCount <= range.upperBound {
                    var v = Pointwise.load(gradient, i)
                    v.replace(with: 0, where: .!(Pointwise.load(forward, i) .> 0))
                    Pointwise.store(v, out, i)
                    i += Pointwise.laneCount
                }
                while i < range.upperBound {
                    out[i] = forward[i] > 0 ? gradient[i] : 0
                    i += 1
                }
            })
    }
}

/// `torch.nn.Sigmoid`: 1 / (1 + e^−x); dσ = σ(1 − σ).
public enum Sigmoid {
    public static func forward(_ x: Tensor) -> Tensor {
        Tensor(
            shape: x.shape,
            data: Pointwise.map(x.data, x.data) { input, _, out, range in
                for i in range { out[i] = value(input[i]) }
            })
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
        Tensor(
            shape: dy.shape,
            data: Pointwise.map(dy.data, output.data) { gradient, sigma, out, range in
                var i = range.lowerBound
                while i + Pointwise.laneCount <= range.upperBound {
                    let s = Pointwise.load(sigma, i)
                    Pointwise.store(Pointwise.load(gradient, i) * s * (1 - s), out, i)
                    i += Pointwise.laneCount
                }
                while i < range.upperBound {
                    out[i] = gradient[i] * sigma[i] * (1 - sigma[i])
                    i += 1
                }
            })
    }
}
