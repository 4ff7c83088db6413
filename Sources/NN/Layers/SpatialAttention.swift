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
        var pooledShape: [Int] = []
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            pool.recycle(&input)
            pool.recycle(&argmax)
            conv.recycle(into: pool)
            pool.recycle(&gate)
        }
    }

    public init(_ store: ParameterStore, _ prefix: String, kernel: Int = 7) {
        conv = Conv2d(
            store, "\(prefix).conv", inChannels: 2, outChannels: 1, kernel: kernel, padding: kernel / 2, bias: false)
    }

    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        Initializers.defaultWeight(store, conv.weight, random: &random)
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, cache: inout Cache) -> Tensor {
        let (n, c, h, w) = x.nchw
        let spatial = h * w
        let parallel = x.count >= ComputePool.parallelMinimum
        let pool = BufferPool.current
        var argmax = pool.indices(n * spatial, repeating: 0)
        // Per position: the channel mean (summed in channel order) and the first maximal channel.
        let pooled = Tensor(shape: Tensor.reusingShape(&cache.pooledShape, n, 2, h, w)) { pp in
            x.data.withUnsafeBufferPointer { xb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    guard let xp = xb.baseAddress, let ap = ab.baseAddress else { return }
                    ComputePool.shared.forRanges(n, parallel: parallel) { images in
                        for b in images {
                            for i in 0..<spatial {
                                var sum: Float = 0
                                var best = -Float.infinity
                                var bestChannel = 0
                                for ch in 0..<c {
                                    let v = xp[(b * c + ch) * spatial + i]
                                    sum += v
                                    if v > best {
                                        best = v
                                        bestChannel = ch
                                    }
                                }
                                pp[(b * 2) * spatial + i] = sum / Float(c)
                                pp[(b * 2 + 1) * spatial + i] = best
                                ap[b * spatial + i] = Int32(bestChannel)
                            }
                        }
                    }
                }
            }
        }
        cache.argmax = argmax
        var gate = conv.forward(pooled, store, cache: &cache.conv)
        pool.replace(&gate) { Sigmoid.forward($0) }
        cache.gate = gate
        cache.input = x
        return Tensor(shape: x.shape) { yp in
            x.data.withUnsafeBufferPointer { xb in
                gate.data.withUnsafeBufferPointer { gb in
                    guard let xp = xb.baseAddress, let gp = gb.baseAddress else { return }
                    ComputePool.shared.forRanges(n, parallel: parallel) { images in
                        for b in images {
                            for ch in 0..<c {
                                let base = (b * c + ch) * spatial
                                for i in 0..<spatial { yp[base + i] = xp[base + i] * gp[b * spatial + i] }
                            }
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
        // dX = dY ⊙ gate; the gate's gradient sums dY ⊙ X over channels, in channel order.
        var dGate = Tensor(zeros: cache.gate.shape)
        var dx = Tensor(shape: dy.shape) { dxp in
            dy.data.withUnsafeBufferPointer { db in
                cache.input.data.withUnsafeBufferPointer { xb in
                    cache.gate.data.withUnsafeBufferPointer { gb in
                        dGate.data.withUnsafeMutableBufferPointer { sb in
                            guard let dp = db.baseAddress, let xp = xb.baseAddress, let gp = gb.baseAddress,
                                let sp = sb.baseAddress
                            else { return }
                            ComputePool.shared.forRanges(n, parallel: parallel) { images in
                                for b in images {
                                    for ch in 0..<c {
                                        let base = (b * c + ch) * spatial
                                        for i in 0..<spatial {
                                            sp[b * spatial + i] += dp[base + i] * xp[base + i]
                                            dxp[base + i] = dp[base + i] * gp[b * spatial + i]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let pool = BufferPool.current
        // The gate's gradient, back through σ and the convolution to the pooled maps.
        var dPooled = dGate
        pool.recycle(&dGate)
        pool.replace(&dPooled) { Sigmoid.backward($0, output: cache.gate) }
        pool.replace(&dPooled) { conv.backward($0, store, cache: cache.conv) }
        defer { pool.recycle(&dPooled) }
        // The mean's gradient goes to every channel, the max's to the first maximal one.
        dPooled.data.withUnsafeBufferPointer { pb in
            cache.argmax.withUnsafeBufferPointer { ab in
                dx.data.withUnsafeMutableBufferPointer { xb in
                    guard let pp = pb.baseAddress, let ap = ab.baseAddress, let dxp = xb.baseAddress else { return }
                    ComputePool.shared.forRanges(n, parallel: parallel) { images in
                        for b in images {
                            for i in 0..<spatial {
                                let dMean = pp[(b * 2) * spatial + i] / Float(c)
                                for ch in 0..<c { dxp[(b * c + ch) * spatial + i] += dMean }
                                dxp[(b * c + Int(ap[b * spatial + i])) * spatial + i] += pp[(b * 2 + 1) * spatial + i]
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
