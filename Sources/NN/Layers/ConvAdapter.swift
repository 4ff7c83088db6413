// ConvAdapter: the Conv-Adapter of the research pipeline (Chen et al., 2024), applied sequentially: h + α ⊙ Δh.

/// `Δh = Up₁ₓ₁(ReLU(DW₃ₓ₃(ReLU(BN(Down₁ₓ₁(h))))))`, `y = h + α ⊙ Δh` per channel (Chen et al., "Conv-Adapter:
/// Exploring Parameter Efficient Transfer Learning for ConvNets", CVPR-W 2024, Eq. 1; the research code's form).
/// Hidden width `m = C / γ`; bias-free convolutions; BatchNorm inside; α initialised to ones; Kaiming normal
/// (fan_out, ReLU) × 0.01 on the three convolutions. Tensors: `prefix.down_proj.weight`, `.bn.*`, `.dw_conv.weight`,
/// `.up_proj.weight`, `.alpha`. Parameters: `2·C·m + 9·m + C + 2·m`.
public final class ConvAdapter {
    public let channels: Int
    public let hidden: Int
    let down: Conv2d
    let bn: BatchNorm2d
    let depthwise: Conv2d
    let up: Conv2d
    public let alpha: ParameterRef

    public struct Cache {
        var down = Conv2d.Cache(), bn = BatchNorm2d.Cache(), depthwise = Conv2d.Cache(), up = Conv2d.Cache()
        var afterBN = Tensor(zeros: [0])
        var afterDW = Tensor(zeros: [0])
        var delta = Tensor(zeros: [0])
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            down.recycle(into: pool)
            bn.recycle(into: pool)
            depthwise.recycle(into: pool)
            up.recycle(into: pool)
            pool.recycle(&afterBN)
            pool.recycle(&afterDW)
            pool.recycle(&delta)
        }
    }

    public init(_ store: ParameterStore, _ prefix: String, channels: Int, reduction: Int) {
        self.channels = channels
        hidden = channels / reduction
        down = Conv2d(store, "\(prefix).down_proj", inChannels: channels, outChannels: hidden, kernel: 1, bias: false)
        depthwise = Conv2d(
            store, "\(prefix).dw_conv", inChannels: hidden, outChannels: hidden, kernel: 3, padding: 1, groups: hidden,
            bias: false)
        up = Conv2d(store, "\(prefix).up_proj", inChannels: hidden, outChannels: channels, kernel: 1, bias: false)
        alpha = store.add("\(prefix).alpha", shape: [channels])
        bn = BatchNorm2d(store, "\(prefix).bn", channels: hidden)
        Initializers.fill(store, alpha, 1)
    }

    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        for conv in [down, up, depthwise] {
            Initializers.kaimingNormal(store, conv.weight, fanOut: true, scale: 0.01, random: &random)
        }
    }

    public func forward(_ h: Tensor, _ store: ParameterStore, bn mode: BatchNorm2d.Mode, cache: inout Cache) -> Tensor {
        let (_, _, height, width) = h.nchw
        let pool = BufferPool.current
        var afterBN = down.forward(h, store, cache: &cache.down)
        pool.replace(&afterBN) { bn.forward($0, store, mode: mode, cache: &cache.bn) }
        pool.replace(&afterBN) { ReLU.forward($0) }
        cache.afterBN = afterBN
        var afterDW = depthwise.forward(afterBN, store, cache: &cache.depthwise)
        pool.replace(&afterDW) { ReLU.forward($0) }
        cache.afterDW = afterDW
        cache.delta = up.forward(cache.afterDW, store, cache: &cache.up)
        return Self.addScaled(h, delta: cache.delta, alpha: store.values(alpha), onePosition: height * width == 1)
    }

    /// `y = h + α ⊙ Δ` per channel. On a 1×1 map (`onePosition`) an image is a row of channels and the same
    /// operations run in lanes of channels; `OnePositionTests` checks that against the plane loop bit for bit.
    static func addScaled(_ h: Tensor, delta: Tensor, alpha a: UnsafePointer<Float>, onePosition: Bool) -> Tensor {
        let (n, c, height, width) = h.nchw
        let spatial = height * width
        return Tensor(shape: h.shape) { yp in
            h.data.withUnsafeBufferPointer { hb in
                delta.data.withUnsafeBufferPointer { db in
                    guard let hp = hb.baseAddress, let dp = db.baseAddress else { return }
                    ComputePool.shared.forRanges(n, parallel: h.count >= ComputePool.parallelMinimum) { images in
                        if onePosition {
                            for b in images { Self.scaledSum(hp + b * c, a, dp + b * c, yp + b * c, count: c) }
                            return
                        }
                        for b in images {
                            for ch in 0..<c {
                                let base = (b * c + ch) * spatial
                                for i in base..<(base + spatial) { yp[i] = hp[i] + a[ch] * dp[i] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `y = h + a ⊙ d` over `count` elements, in lanes with a scalar tail (the scalar's operations in its order).
    @inline(__always)
    static func scaledSum(
        _ h: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + Pointwise.laneCount <= count {
            Pointwise.store(Pointwise.load(h, i) + Pointwise.load(a, i) * Pointwise.load(d, i), y, i)
            i += Pointwise.laneCount
        }
        while i < count {
            y[i] = h[i] + a[i] * d[i]
            i += 1
        }
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (_, _, height, width) = dy.nchw
        var d = Self.scaledBackward(
            dy, delta: cache.delta, alpha: store.values(alpha),
            dAlpha: store.isTrainable(alpha) ? store.gradients(alpha) : nil,
            onePosition: height * width == 1)
        let pool = BufferPool.current
        pool.replace(&d) { up.backward($0, store, cache: cache.up) }
        pool.replace(&d) { ReLU.backward($0, output: cache.afterDW) }
        pool.replace(&d) { depthwise.backward($0, store, cache: cache.depthwise) }
        pool.replace(&d) { ReLU.backward($0, output: cache.afterBN) }
        pool.replace(&d) { bn.backward($0, store, cache: cache.bn) }
        pool.replace(&d) { down.backward($0, store, cache: cache.down) }
        pool.replace(&d) { Tensor(shape: dy.shape, data: Pointwise.sum($0.data, dy.data)) }
        return d
    }

    /// dΔ = α ⊙ dY, and (when `dAlpha` is given) dα += Σ dY ⊙ Δ per channel over images and positions in that
    /// order, so the split is by channel (each thread walks every image for its channels). On a 1×1 map each
    /// image's channels are contiguous and run in lanes, images still in order.
    static func scaledBackward(
        _ dy: Tensor, delta: Tensor, alpha a: UnsafePointer<Float>, dAlpha: UnsafeMutablePointer<Float>?,
        onePosition: Bool
    ) -> Tensor {
        let (n, c, height, width) = dy.nchw
        let spatial = height * width
        return Tensor(shape: dy.shape) { out in
            dy.data.withUnsafeBufferPointer { yb in
                delta.data.withUnsafeBufferPointer { db in
                    guard let gp = yb.baseAddress, let dp = db.baseAddress else { return }
                    ComputePool.shared.forRanges(c, parallel: dy.count >= ComputePool.parallelMinimum) { channels in
                        if onePosition {
                            let low = channels.lowerBound, count = channels.count
                            for b in 0..<n {
                                let row = b * c + low
                                Self.alphaGradient(
                                    gp + row, dp + row, a + low, out + row, dAlpha: dAlpha.map { $0 + low },
                                    count: count)
                            }
                            return
                        }
                        for b in 0..<n {
                            for ch in channels {
                                let base = (b * c + ch) * spatial
                                for i in base..<(base + spatial) {
                                    if let dAlpha { dAlpha[ch] += gp[i] * dp[i] }
                                    out[i] = gp[i] * a[ch]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One image's row on a 1×1 map: `out = g ⊙ a` and, when trainable, `dα += g ⊙ d`, in lanes of channels.
    @inline(__always)
    static func alphaGradient(
        _ g: UnsafePointer<Float>, _ d: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>,
        dAlpha: UnsafeMutablePointer<Float>?, count: Int
    ) {
        var i = 0
        while i + Pointwise.laneCount <= count {
            let gi = Pointwise.load(g, i)
            if let dAlpha { Pointwise.store(Pointwise.load(dAlpha, i) + gi * Pointwise.load(d, i), dAlpha, i) }
            Pointwise.store(gi * Pointwise.load(a, i), out, i)
            i += Pointwise.laneCount
        }
        while i < count {
            if let dAlpha { dAlpha[i] += g[i] * d[i] }
            out[i] = g[i] * a[i]
            i += 1
        }
    }
}
