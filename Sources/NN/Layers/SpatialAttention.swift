// SpatialAttention: CBAM's spatial attention (Woo et al., 2018): channel mean and max → 7×7 conv → sigmoid gate.

/// `y = x ⊙ σ(conv₇ₓ₇([mean_c x, max_c x]))` (Woo, Park, Lee & Kweon, "CBAM", ECCV 2018); tensor
/// `prefix.conv.weight` `[1, 2, 7, 7]`, no bias. The max routes its gradient to the first maximal channel.
public final class SpatialAttention {
    let conv: Conv2d

    public struct Cache {
        var input = Tensor(zeros: [0])
        var argmax: [Int32] = []
        var conv = Conv2d.Cache()
        var gate = Tensor(zeros: [0])
        public init() {}
    }

    public init(_ store: ParameterStore, _ prefix: String, kernel: Int = 7) {
        conv = Conv2d(store, "\(prefix).conv", inChannels: 2, outChannels: 1, kernel: kernel, padding: kernel / 2, bias: false)
    }

    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        Initializers.defaultWeight(store, conv.weight, random: &random)
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, cache: inout Cache) -> Tensor {
        let (n, c, h, w) = x.nchw
        let spatial = h * w
        var pooled = Tensor(zeros: [n, 2, h, w])
        cache.argmax = [Int32](repeating: 0, count: n * spatial)
        for b in 0..<n {
            for i in 0..<spatial {
                var sum: Float = 0
                var best = -Float.infinity
                var bestChannel = 0
                for ch in 0..<c {
                    let v = x.data[(b * c + ch) * spatial + i]
                    sum += v
                    if v > best {
                        best = v
                        bestChannel = ch
                    }
                }
                pooled.data[(b * 2) * spatial + i] = sum / Float(c)
                pooled.data[(b * 2 + 1) * spatial + i] = best
                cache.argmax[b * spatial + i] = Int32(bestChannel)
            }
        }
        cache.gate = Sigmoid.forward(conv.forward(pooled, store, cache: &cache.conv))
        cache.input = x
        var y = x
        for b in 0..<n {
            for ch in 0..<c {
                for i in 0..<spatial { y.data[(b * c + ch) * spatial + i] *= cache.gate.data[b * spatial + i] }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (n, c, h, w) = dy.nchw
        let spatial = h * w
        var dx = dy
        var dGate = Tensor(zeros: [n, 1, h, w])
        for b in 0..<n {
            for ch in 0..<c {
                for i in 0..<spatial {
                    let index = (b * c + ch) * spatial + i
                    dGate.data[b * spatial + i] += dy.data[index] * cache.input.data[index]
                    dx.data[index] *= cache.gate.data[b * spatial + i]
                }
            }
        }
        let dPooled = conv.backward(Sigmoid.backward(dGate, output: cache.gate), store, cache: cache.conv)
        for b in 0..<n {
            for i in 0..<spatial {
                let dMean = dPooled.data[(b * 2) * spatial + i] / Float(c)
                for ch in 0..<c { dx.data[(b * c + ch) * spatial + i] += dMean }
                let maxChannel = Int(cache.argmax[b * spatial + i])
                dx.data[(b * c + maxChannel) * spatial + i] += dPooled.data[(b * 2 + 1) * spatial + i]
            }
        }
        return dx
    }
}
