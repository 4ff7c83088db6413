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
        var squeezedShape: [Int] = []
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            pool.recycle(&input)
            fc1.recycle(into: pool)
            fc2.recycle(into: pool)
            pool.recycle(&hidden)
            pool.recycle(&gate)
        }
    }

    public init(_ store: ParameterStore, _ prefix: String, channels: Int, reduction: Int = 16) {
        self.channels = channels
        fc1 = Linear(
            store, "\(prefix).excitation.0", inFeatures: channels, outFeatures: channels / reduction, bias: false)
        fc2 = Linear(
            store, "\(prefix).excitation.2", inFeatures: channels / reduction, outFeatures: channels, bias: false)
    }

    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        Initializers.defaultWeight(store, fc1.weight, random: &random)
        Initializers.defaultWeight(store, fc2.weight, random: &random)
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, cache: inout Cache) -> Tensor {
        let pool = BufferPool.current
        var hidden = fc1.forward(GlobalAvgPool.forward(x, shape: &cache.squeezedShape), store, cache: &cache.fc1)
        pool.replace(&hidden) { ReLU.forward($0) }
        cache.hidden = hidden
        var gate = fc2.forward(hidden, store, cache: &cache.fc2)
        pool.replace(&gate) { Sigmoid.forward($0) }
        cache.gate = gate
        cache.input = x
        return Self.excite(x, gate: cache.gate, onePosition: x.nchw.h * x.nchw.w == 1)
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (_, _, h, w) = dy.nchw
        let onePosition = h * w == 1
        let pool = BufferPool.current
        var (dx, dGate) = Self.exciteBackward(dy, input: cache.input, gate: cache.gate, onePosition: onePosition)
        // The gate's gradient, back through σ, fc2, ReLU and fc1 to the squeeze.
        var dSqueezed = Tensor(shape: cache.gate.shape, data: dGate)
        dGate = []
        pool.replace(&dSqueezed) { Sigmoid.backward($0, output: cache.gate) }
        pool.replace(&dSqueezed) { fc2.backward($0, store, cache: cache.fc2) }
        pool.replace(&dSqueezed) { ReLU.backward($0, output: cache.hidden) }
        pool.replace(&dSqueezed) { fc1.backward($0, store, cache: cache.fc1) }
        Self.addSqueezeGradient(&dx, dSqueezed, onePosition: onePosition)
        pool.recycle(&dSqueezed)
        return dx
    }

    /// `y = x ⊙ s`, each plane by its channel's gate. On a 1×1 map (`onePosition`) the gate has the input's layout
    /// and this is one product in lanes; `OnePositionTests` checks it against the plane loop bit for bit.
    static func excite(_ x: Tensor, gate: Tensor, onePosition: Bool) -> Tensor {
        if onePosition { return Tensor(shape: x.shape, data: Pointwise.product(x.data, gate.data)) }
        let (n, c, h, w) = x.nchw
        let spatial = h * w
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

    /// dX = dY ⊙ s (per channel) and ds = 0 + Σ over each plane of dY ⊙ X, summed in plane order; on a 1×1 map
    /// both are single products in lanes.
    static func exciteBackward(_ dy: Tensor, input: Tensor, gate: Tensor, onePosition: Bool) -> (
        dx: Tensor, dGate: [Float]
    ) {
        if onePosition {
            let dGate = Pointwise.map(dy.data, input.data) { d, x, out, range in
                let zero = Pointwise.Lanes(repeating: 0)
                var i = range.lowerBound
                while i + Pointwise.laneCount <= range.upperBound {
                    Pointwise.store(zero + Pointwise.load(d, i) * Pointwise.load(x, i), out, i)
                    i += Pointwise.laneCount
                }
                while i < range.upperBound {
                    out[i] = 0 + d[i] * x[i]
                    i += 1
                }
            }
            return (Tensor(shape: dy.shape, data: Pointwise.product(dy.data, gate.data)), dGate)
        }
        let (n, c, h, w) = dy.nchw
        let spatial = h * w
        // Every plane's sum is written below.
        var dGate = BufferPool.current.take(n * c)
        let dx = Tensor(shape: dy.shape) { dxp in
            dy.data.withUnsafeBufferPointer { db in
                input.data.withUnsafeBufferPointer { xb in
                    gate.data.withUnsafeBufferPointer { gb in
                        dGate.withUnsafeMutableBufferPointer { sb in
                            guard let dp = db.baseAddress, let xp = xb.baseAddress, let gp = gb.baseAddress,
                                let sp = sb.baseAddress
                            else { return }
                            ComputePool.shared.forRanges(n * c, parallel: dy.count >= ComputePool.parallelMinimum) {
                                planes in
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
        return (dx, dGate)
    }

    /// The squeeze's gradient, dS / (h·w) on every element of its plane, added to `dx` in place; on a 1×1 map
    /// that is `dx + dS / 1` in lanes.
    static func addSqueezeGradient(_ dx: inout Tensor, _ dSqueezed: Tensor, onePosition: Bool) {
        if onePosition {
            BufferPool.current.replace(&dx) { dx in
                Tensor(
                    shape: dx.shape,
                    data: Pointwise.map(dx.data, dSqueezed.data) { a, g, out, range in
                        let one = Pointwise.Lanes(repeating: 1)
                        var i = range.lowerBound
                        while i + Pointwise.laneCount <= range.upperBound {
                            Pointwise.store(Pointwise.load(a, i) + Pointwise.load(g, i) / one, out, i)
                            i += Pointwise.laneCount
                        }
                        while i < range.upperBound {
                            out[i] = a[i] + g[i] / 1
                            i += 1
                        }
                    })
            }
            return
        }
        let (n, c, h, w) = dx.nchw
        let spatial = h * w
        let parallel = dx.count >= ComputePool.parallelMinimum
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
    }
}
