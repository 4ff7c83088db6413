// Activations: ReLU and Sigmoid, forward and backward (pointwise; cache the output).
import Foundation

/// `torch.nn.ReLU`: max(x, 0); the gradient passes where the output is positive.
public enum ReLU {
    public static func forward(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { max($0, 0) })
    }

    /// `output` is the forward result.
    public static func backward(_ dy: Tensor, output: Tensor) -> Tensor {
        Tensor(shape: dy.shape, data: zip(dy.data, output.data).map { $1 > 0 ? $0 : 0 })
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
