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
        let spatial = h * w
        let gate = cache.gate
        return Tensor(shape: x.shape) { yp in
            x.data.withUnsafeBufferPointer { xb in
                gate.data.withUnsafeBufferPointer { gb in
                    guard let xp = xb.baseAddress, let gp = gb.baseAddress else { return }
                    ComputePool.shared.forRanges(n * c, parallel: x.count >= ComputePool.parallelMinimum) { planes in
                        for plane in planes {
                            let g = gp[plane], base = plane * spatial
                            for i in base..<(base + spatial) { yp[i] = xp[i] * g }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (n, c, h, w) = dy.nchw
        let spatial = h * w
        let parallel = dy.count >= ComputePool.parallelMinimum
        // dX = dY ⊙ s (per channel), and ds = Σ over each plane of dY ⊙ X, summed in plane order.
        var dGateData = [Float](repeating: 0, count: n * c)
        var dx = Tensor(shape: dy.shape) { dxp in
            dy.data.withUnsafeBufferPointer { db in
                cache.input.data.withUnsafeBufferPointer { xb in
                    cache.gate.data.withUnsafeBufferPointer { gb in
                        dGateData.withUnsafeMutableBufferPointer { sb in
                            guard let dp = db.baseAddress, let xp = xb.baseAddress, let gp = gb.baseAddress, let sp = sb.baseAddress else { return }
                            ComputePool.shared.forRanges(n * c, parallel: parallel) { planes in
                                for plane in planes {
                                    let g = gp[plane], base = plane * spatial
                                    var sum: Float = 0
                                    for i in base..<(base + spatial) {
                                        sum += dp[i] * xp[i]
                                        dxp[i] = dp[i] * g
                                    }
                                    sp[plane] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
        let dPre2 = Sigmoid.backward(Tensor(shape: [n, c], data: dGateData), output: cache.gate)
        let dHidden = fc2.backward(dPre2, store, cache: cache.fc2)
        let dPre1 = ReLU.backward(dHidden, output: cache.hidden)
        let dSqueezed = fc1.backward(dPre1, store, cache: cache.fc1)
        // The squeeze's gradient, dS / (h·w) on every element of its plane, added in place.
        dSqueezed.data.withUnsafeBufferPointer { sb in
            dx.data.withUnsafeMutableBufferPointer { xb in
                guard let sp = sb.baseAddress, let dxp = xb.baseAddress else { return }
                ComputePool.shared.forRanges(n * c, parallel: parallel) { planes in
                    for plane in planes {
                        let g = sp[plane] / Float(spatial), base = plane * spatial
                        for i in base..<(base + spatial) { dxp[i] += g }
                    }
                }
            }
        }
        return dx
    }
}
