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
        var mean = [Float](repeating: 0, count: c)
        var invStd = [Float](repeating: 0, count: c)
        if mode == .train {
            // Per channel, values are summed in (batch, position) order; memory is walked contiguously. Threads
            // take ranges of channels, so each sum keeps that order.
            var sums = [Double](repeating: 0, count: c)
            var squares = [Double](repeating: 0, count: c)
            let parallel = x.count >= ComputePool.parallelMinimum
            x.data.withUnsafeBufferPointer { xp in
                sums.withUnsafeMutableBufferPointer { sp in
                    squares.withUnsafeMutableBufferPointer { qp in
                        let sp = sp, qp = qp
                        ComputePool.shared.forRanges(c, parallel: parallel) { channels in
                            for b in 0..<n {
                                for ch in channels {
                                    let base = (b * c + ch) * spatial
                                    var s = sp[ch]
                                    for i in 0..<spatial { s += Double(xp[base + i]) }
                                    sp[ch] = s
                                }
                            }
                            for ch in channels { sp[ch] /= Double(m) }
                            for b in 0..<n {
                                for ch in channels {
                                    let base = (b * c + ch) * spatial
                                    let mu = sp[ch]
                                    var q = qp[ch]
                                    for i in 0..<spatial {
                                        let d = Double(xp[base + i]) - mu
                                        q += d * d
                                    }
                                    qp[ch] = q
                                }
                            }
                        }
                    }
                }
            }
            let mu = sums
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
        var y = Tensor(zeros: x.shape)
        var normalized = [Float](repeating: 0, count: x.count)
        let parallel = x.count >= ComputePool.parallelMinimum
        x.data.withUnsafeBufferPointer { xp in
            normalized.withUnsafeMutableBufferPointer { np in
                y.data.withUnsafeMutableBufferPointer { yp in
                    let np = np, yp = yp
                    ComputePool.shared.forRanges(n, parallel: parallel) { images in
                    for b in images {
                        for ch in 0..<c {
                            let base = (b * c + ch) * spatial
                            let mu = mean[ch], scale = invStd[ch], g = gamma[ch], shift = beta[ch]
                            for i in 0..<spatial {
                                let xhat = (xp[base + i] - mu) * scale
                                np[base + i] = xhat
                                yp[base + i] = g * xhat + shift
                            }
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
        var sumDy = [Double](repeating: 0, count: c)
        var sumDyXhat = [Double](repeating: 0, count: c)
        // The per-channel sums feed γ/β gradients and train-mode dX; a frozen eval-mode layer needs neither.
        let parallel = dy.count >= ComputePool.parallelMinimum
        if trainable || cache.mode == .train { dy.data.withUnsafeBufferPointer { dp in
            cache.normalized.withUnsafeBufferPointer { np in
                sumDy.withUnsafeMutableBufferPointer { sdBuffer in
                sumDyXhat.withUnsafeMutableBufferPointer { sxBuffer in
                let sumDy = sdBuffer, sumDyXhat = sxBuffer
                ComputePool.shared.forRanges(c, parallel: parallel) { channels in
                for b in 0..<n {
                    for ch in channels {
                        let base = (b * c + ch) * spatial
                        var s = sumDy[ch], q = sumDyXhat[ch]
                        for i in 0..<spatial {
                            s += Double(dp[base + i])
                            q += Double(dp[base + i]) * Double(np[base + i])
                        }
                        sumDy[ch] = s
                        sumDyXhat[ch] = q
                    }
                }
                }
                }
                }
            }
        } }
        if trainable {
            let dGamma = store.gradients(weight)
            let dBeta = store.gradients(bias)
            for ch in 0..<c {
                dGamma[ch] += Float(sumDyXhat[ch])
                dBeta[ch] += Float(sumDy[ch])
            }
        }
        var dx = Tensor(zeros: dy.shape)
        let train = cache.mode == .train
        let invStd = cache.invStd
        dy.data.withUnsafeBufferPointer { dp in
            cache.normalized.withUnsafeBufferPointer { np in
                dx.data.withUnsafeMutableBufferPointer { xp in
                    let xp = xp
                    ComputePool.shared.forRanges(n, parallel: parallel) { images in
                    for b in images {
                        for ch in 0..<c {
                            let base = (b * c + ch) * spatial
                            let scale = gamma[ch] * invStd[ch]
                            if train {
                                let meanDy = Float(sumDy[ch]) / m
                                let meanDyXhat = Float(sumDyXhat[ch]) / m
                                for i in 0..<spatial { xp[base + i] = scale * (dp[base + i] - meanDy - np[base + i] * meanDyXhat) }
                            } else {
                                for i in 0..<spatial { xp[base + i] = scale * dp[base + i] }
                            }
                        }
                    }
                    }
                }
            }
        }
        return dx
    }
}
