// SqueezeExcitation: channel attention (Hu et al., 2018), bias-free, reduction 16; forward and backward.

/// SE block: `s = σ(W₂ · ReLU(W₁ · GAP(x)))`, `y = x ⊙ s` per channel (Hu, Shen & Sun, "Squeeze-and-Excitation
/// Networks", CVPR 2018). Tensors `prefix.excitation.0.weight` `[C/r, C]` and `prefix.excitation.2.weight` `[C, C/r]`.
public final class SqueezeExcitation {
    public let channels: Int
    let fc1: Linear
    let fc2: Linear

    public struct Cache {
        var input = Tensor(zeros: [0])
        var fc1 = Linear.Cache()
        var fc2 = Linear.Cache()
        var hidden = Tensor(zeros: [0])
        var gate = Tensor(zeros: [0])
        public init() {}
    }

    public init(_ store: ParameterStore, _ prefix: String, channels: Int, reduction: Int = 16) {
        self.channels = channels
        fc1 = Linear(store, "\(prefix).excitation.0", inFeatures: channels, outFeatures: channels / reduction, bias: false)
        fc2 = Linear(store, "\(prefix).excitation.2", inFeatures: channels / reduction, outFeatures: channels, bias: false)
    }

    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        Initializers.defaultWeight(store, fc1.weight, random: &random)
        Initializers.defaultWeight(store, fc2.weight, random: &random)
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, cache: inout Cache) -> Tensor {
        let (n, c, h, w) = x.nchw
        let squeezed = GlobalAvgPool.forward(x)
        cache.hidden = ReLU.forward(fc1.forward(squeezed, store, cache: &cache.fc1))
        cache.gate = Sigmoid.forward(fc2.forward(cache.hidden, store, cache: &cache.fc2))
        cache.input = x
        var y = x
        let spatial = h * w
        for plane in 0..<(n * c) {
            let g = cache.gate.data[plane]
            for i in 0..<spatial { y.data[plane * spatial + i] *= g }
        }
        return y
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (n, c, h, w) = dy.nchw
        let spatial = h * w
        var dx = dy
        var dGate = Tensor(zeros: [n, c])
        for plane in 0..<(n * c) {
            let g = cache.gate.data[plane]
            var sum: Float = 0
            for i in 0..<spatial {
                sum += dy.data[plane * spatial + i] * cache.input.data[plane * spatial + i]
                dx.data[plane * spatial + i] *= g
            }
            dGate.data[plane] = sum
        }
        let dPre2 = Sigmoid.backward(dGate, output: cache.gate)
        let dHidden = fc2.backward(dPre2, store, cache: cache.fc2)
        let dPre1 = ReLU.backward(dHidden, output: cache.hidden)
        let dSqueezed = fc1.backward(dPre1, store, cache: cache.fc1)
        let dFromGate = GlobalAvgPool.backward(dSqueezed, inputShape: dy.shape)
        for i in 0..<dx.count { dx.data[i] += dFromGate.data[i] }
        return dx
    }
}
