// BatchNorm2d: batch normalisation over (N, H, W) per channel, train and eval modes, forward and backward.

/// `torch.nn.BatchNorm2d` (Ioffe & Szegedy, 2015) with PyTorch's conventions: normalisation by the biased
/// batch variance; running statistics updated with momentum 0.1 using the *unbiased* variance
/// (`running = (1 − m)·running + m·batch`), `num_batches_tracked` incremented; eval mode normalises with the
/// running statistics and leaves them untouched. Backward is defined in both modes.
public final class BatchNorm2d {
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let weight: ParameterRef
    public let bias: ParameterRef
    public let runningMean: ParameterRef
    public let runningVar: ParameterRef
    public let batchesTracked: Int

    public enum Mode: Sendable { case train, eval }

    /// What backward needs from forward.
    public struct Cache {
        public var normalized: [Float] = []
        public var invStd: [Float] = []
        public var mode: Mode = .eval
        public var shape: [Int] = []
        public init() {}

        /// Hands the cached buffers to `pool` (the start of the next step).
        public mutating func recycle(into pool: BufferPool) {
            pool.recycle(&normalized)
            pool.recycle(&invStd)
        }
    }

    public init(_ store: ParameterStore, _ name: String, channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = store.add("\(name).weight", shape: [channels])
        bias = store.add("\(name).bias", shape: [channels])
        runningMean = store.add("\(name).running_mean", shape: [channels], kind: .buffer)
        runningVar = store.add("\(name).running_var", shape: [channels], kind: .buffer)
        batchesTracked = store.addCounter("\(name).num_batches_tracked")
        Initializers.fill(store, weight, 1)
        Initializers.fill(store, runningVar, 1)
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, mode: Mode, cache: inout Cache) -> Tensor {
        let (n, c, h, w) = x.nchw
        precondition(c == channels, "batchnorm: \(c) channels, expected \(channels)")
        let spatial = h * w
        let m = n * spatial
        let gamma = store.values(weight)
        let beta = store.values(bias)
        let rMean = store.values(runningMean)
        let rVar = store.values(runningVar)
        let layout = Layout(n: n, c: c, spatial: spatial, parallel: x.count >= ComputePool.parallelMinimum)
        let pool = BufferPool.current
        // Both written for every channel below.
        var mean = pool.take(c)
        defer { pool.recycle(&mean) }
        var invStd = pool.take(c)
        if mode == .train {
            var (mu, squares) = x.data.withUnsafeBufferPointer { Self.momentSums($0, layout) }
            defer {
                pool.recycle(&mu)
                pool.recycle(&squares)
            }
            if m > 1 { store.counters[batchesTracked] += 1 }
            for ch in 0..<c {
                mean[ch] = Float(mu[ch])
                let variance = Float(squares[ch] / Double(m))
                if m > 1 {
                    rMean[ch] = (1 - momentum) * rMean[ch] + momentum * mean[ch]
                    rVar[ch] = (1 - momentum) * rVar[ch] + momentum * Float(squares[ch] / Double(m - 1))
                }
                invStd[ch] = 1 / (variance + eps).squareRoot()
            }
            store.touch(runningMean)
            store.touch(runningVar)
        } else {
            for ch in 0..<c {
                mean[ch] = rMean[ch]
                invStd[ch] = 1 / (rVar[ch] + eps).squareRoot()
            }
        }
        // Both outputs are written in full, so neither is zero-filled first.
        var normalized = pool.take(x.count)
        let y = Tensor(shape: x.shape) { yp in
            normalized.withUnsafeMutableBufferPointer { nb in
                x.data.withUnsafeBufferPointer { xb in
                    mean.withUnsafeBufferPointer { mb in
                        invStd.withUnsafeBufferPointer { sb in
                            guard let xp = xb.baseAddress, let np = nb.baseAddress, let mp = mb.baseAddress,
                                let sp = sb.baseAddress
                            else { return }
                            let affine = Affine(mean: mp, scale: sp, gamma: gamma, beta: beta)
                            ComputePool.shared.forRanges(n, parallel: layout.parallel) { images in
                                Self.normalize(xp, np, yp, affine, images: images, layout)
                            }
                        }
                    }
                }
            }
        }
        cache.normalized = normalized
        cache.invStd = invStd
        cache.mode = mode
        cache.shape = x.shape
        return y
    }

    /// Accumulates γ/β gradients (when trainable) and returns dX.
    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (n, c, h, w) = dy.nchw
        let spatial = h * w
        let m = Float(n * spatial)
        let gamma = store.values(weight)
        let trainable = store.isTrainable(weight)
        let layout = Layout(n: n, c: c, spatial: spatial, parallel: dy.count >= ComputePool.parallelMinimum)
        // The per-channel sums feed γ/β gradients and train-mode dX; a frozen eval-mode layer needs neither.
        let pool = BufferPool.current
        var sumDy = pool.doubleZeros(c)
        var sumDyXhat = pool.doubleZeros(c)
        defer {
            pool.recycle(&sumDy)
            pool.recycle(&sumDyXhat)
        }
        if trainable || cache.mode == .train {
            dy.data.withUnsafeBufferPointer { dp in
                cache.normalized.withUnsafeBufferPointer { np in
                    Self.gradientSums(dp, np, layout, into: &sumDy, &sumDyXhat)
                }
            }
        }
        if trainable {
            let dGamma = store.gradients(weight)
            let dBeta = store.gradients(bias)
            for ch in 0..<c {
                dGamma[ch] += Float(sumDyXhat[ch])
                dBeta[ch] += Float(sumDy[ch])
            }
        }
        let train = cache.mode == .train
        // Per channel: dX = scale·(dY − mean dY − x̂·mean(dY·x̂)) in train mode, scale·dY in eval mode.
        var scale = pool.take(c), meanDy = pool.take(c), meanDyXhat = pool.take(c)
        defer {
            pool.recycle(&scale)
            pool.recycle(&meanDy)
            pool.recycle(&meanDyXhat)
        }
        for ch in 0..<c {
            scale[ch] = gamma[ch] * cache.invStd[ch]
            meanDy[ch] = train ? Float(sumDy[ch]) / m : 0
            meanDyXhat[ch] = train ? Float(sumDyXhat[ch]) / m : 0
        }
        return Tensor(shape: dy.shape) { xp in
            dy.data.withUnsafeBufferPointer { db in
                cache.normalized.withUnsafeBufferPointer { nb in
                    scale.withUnsafeBufferPointer { sb in
                        meanDy.withUnsafeBufferPointer { mb in
                            meanDyXhat.withUnsafeBufferPointer { hb in
                                guard let dp = db.baseAddress, let np = nb.baseAddress, let sp = sb.baseAddress,
                                    let mp = mb.baseAddress,
                                    let hp = hb.baseAddress
                                else { return }
                                let terms = GradientTerms(scale: sp, meanDy: mp, meanDyXhat: hp, train: train)
                                ComputePool.shared.forRanges(n, parallel: layout.parallel) { images in
                                    Self.inputGradient(dp, np, xp, terms, images: images, layout)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Per-channel values of the forward pass: x̂ = (x − mean)·scale, y = γ·x̂ + β.
    struct Affine {
        let mean, scale, gamma, beta: UnsafePointer<Float>
        init(
            mean: UnsafePointer<Float>, scale: UnsafePointer<Float>, gamma: UnsafeMutablePointer<Float>,
            beta: UnsafeMutablePointer<Float>
        ) {
            self.mean = mean
            self.scale = scale
            self.gamma = UnsafePointer(gamma)
            self.beta = UnsafePointer(beta)
        }
    }

    /// x̂ and y of `images`. Planes of one position (1×1 maps) are rows of channels, taken 16 channels at a time;
    /// every element goes through the same two operations either way.
    static func normalize(
        _ x: UnsafePointer<Float>, _ xhat: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ a: Affine,
        images: Range<Int>, _ l: Layout
    ) {
        forChannelLanes(images: images, l) { row, ch in
            let h = (Pointwise.load(x, row + ch) - Pointwise.load(a.mean, ch)) * Pointwise.load(a.scale, ch)
            Pointwise.store(h, xhat, row + ch)
            Pointwise.store(Pointwise.load(a.gamma, ch) * h + Pointwise.load(a.beta, ch), y, row + ch)
        } plane: { channel, elements in
            let mean = a.mean[channel], scale = a.scale[channel], gamma = a.gamma[channel], beta = a.beta[channel]
            for i in elements {
                let h = (x[i] - mean) * scale
                xhat[i] = h
                y[i] = gamma * h + beta
            }
        }
    }

    /// Per-channel terms of dX = scale·(dY − mean dY − x̂·mean(dY·x̂)) in train mode, scale·dY in eval mode.
    struct GradientTerms {
        let scale, meanDy, meanDyXhat: UnsafePointer<Float>
        let train: Bool
    }

    /// dX of `images`, 16 channels at a time on 1×1 maps as in `normalize`.
    static func inputGradient(
        _ dy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ t: GradientTerms,
        images: Range<Int>, _ l: Layout
    ) {
        forChannelLanes(images: images, l) { row, ch in
            let g = Pointwise.load(dy, row + ch)
            let scale = Pointwise.load(t.scale, ch)
            let value =
                t.train
                ? scale
                    * (g - Pointwise.load(t.meanDy, ch) - Pointwise.load(xhat, row + ch)
                        * Pointwise.load(t.meanDyXhat, ch))
                : scale * g
            Pointwise.store(value, dx, row + ch)
        } plane: { channel, elements in
            let scale = t.scale[channel], meanDy = t.meanDy[channel], meanDyXhat = t.meanDyXhat[channel]
            if t.train {
                for i in elements { dx[i] = scale * (dy[i] - meanDy - xhat[i] * meanDyXhat) }
            } else {
                for i in elements { dx[i] = scale * dy[i] }
            }
        }
    }

    /// The elementwise walk of `normalize` and `inputGradient` over `images`: on 1×1 maps, where an image is one
    /// row of channels starting at `row`, `lanes(row, ch)` takes channels `ch..<ch + 16` at a time; every channel
    /// left (all of them on larger maps) is handed to `plane(channel, elements)` with its plane's element range.
    @inline(__always)
    static func forChannelLanes(
        images: Range<Int>, _ l: Layout, lanes: (_ row: Int, _ ch: Int) -> Void,
        plane: (_ channel: Int, _ elements: Range<Int>) -> Void
    ) {
        typealias V = Pointwise.Lanes
        for b in images {
            var ch = 0
            if l.spatial == 1 {
                let row = b * l.c
                while ch + V.scalarCount <= l.c {
                    lanes(row, ch)
                    ch += V.scalarCount
                }
            }
            for channel in ch..<l.c {
                let base = (b * l.c + channel) * l.spatial
                plane(channel, base..<(base + l.spatial))
            }
        }
    }

    /// The shape of one pass and whether its loops are split over the compute pool.
    struct Layout {
        let n, c, spatial: Int
        let parallel: Bool
    }

    /// Per channel, the batch mean and the sum of squared deviations from it, in Double. Each channel's values
    /// are summed in (batch, position) order on one thread; threads take ranges of channels.
    static func momentSums(_ x: UnsafeBufferPointer<Float>, _ l: Layout) -> (mean: [Double], squares: [Double]) {
        let pool = BufferPool.current
        var mean = pool.doubleZeros(l.c)
        var squares = pool.doubleZeros(l.c)
        let count = Double(l.n * l.spatial)
        mean.withUnsafeMutableBufferPointer { meanBuffer in
            squares.withUnsafeMutableBufferPointer { squareBuffer in
                let sums = meanBuffer, deviations = squareBuffer
                ComputePool.shared.forRanges(l.c, parallel: l.parallel) { channels in
                    forPlanes(of: channels, l) { ch, base in
                        var s = sums[ch]
                        for i in 0..<l.spatial { s += Double(x[base + i]) }
                        sums[ch] = s
                    }
                    for ch in channels { sums[ch] /= count }
                    forPlanes(of: channels, l) { ch, base in
                        let mu = sums[ch]
                        var q = deviations[ch]
                        for i in 0..<l.spatial {
                            let d = Double(x[base + i]) - mu
                            q += d * d
                        }
                        deviations[ch] = q
                    }
                }
            }
        }
        return (mean, squares)
    }

    /// Per channel, Σ dY and Σ dY·x̂ in Double, in (batch, position) order, added to `sumDy` and `sumDyXhat`
    /// (zeros on entry); threads take ranges of channels.
    static func gradientSums(
        _ dy: UnsafeBufferPointer<Float>, _ xhat: UnsafeBufferPointer<Float>, _ l: Layout, into sumDy: inout [Double],
        _ sumDyXhat: inout [Double]
    ) {
        sumDy.withUnsafeMutableBufferPointer { dyBuffer in
            sumDyXhat.withUnsafeMutableBufferPointer { productBuffer in
                let sums = dyBuffer, products = productBuffer
                ComputePool.shared.forRanges(l.c, parallel: l.parallel) { channels in
                    forPlanes(of: channels, l) { ch, base in
                        var s = sums[ch], q = products[ch]
                        for i in 0..<l.spatial {
                            s += Double(dy[base + i])
                            q += Double(dy[base + i]) * Double(xhat[base + i])
                        }
                        sums[ch] = s
                        products[ch] = q
                    }
                }
            }
        }
    }

    /// The walk of the per-channel sums: `body(ch, base)` for every plane of `channels`, batch by batch, so each
    /// channel's planes come in batch order and its sums run in (batch, position) order.
    @inline(__always)
    static func forPlanes(of channels: Range<Int>, _ l: Layout, _ body: (_ ch: Int, _ base: Int) -> Void) {
        for b in 0..<l.n {
            for ch in channels { body(ch, (b * l.c + ch) * l.spatial) }
        }
    }
}
