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
        var y = Tensor(zeros: x.shape)
        cache.normalized = [Float](repeating: 0, count: x.count)
        cache.invStd = [Float](repeating: 0, count: c)
        cache.mode = mode
        cache.shape = x.shape
        if mode == .train, m > 1 { store.counters[batchesTracked] += 1 }
        for ch in 0..<c {
            let mean: Float
            let variance: Float
            if mode == .train {
                var sum = 0.0
                for b in 0..<n {
                    let base = (b * c + ch) * spatial
                    for i in 0..<spatial { sum += Double(x.data[base + i]) }
                }
                let mu = sum / Double(m)
                var squares = 0.0
                for b in 0..<n {
                    let base = (b * c + ch) * spatial
                    for i in 0..<spatial {
                        let d = Double(x.data[base + i]) - mu
                        squares += d * d
                    }
                }
                mean = Float(mu)
                variance = Float(squares / Double(m))
                if m > 1 {
                    rMean[ch] = (1 - momentum) * rMean[ch] + momentum * mean
                    rVar[ch] = (1 - momentum) * rVar[ch] + momentum * Float(squares / Double(m - 1))
                }
            } else {
                mean = rMean[ch]
                variance = rVar[ch]
            }
            let invStd = 1 / (variance + eps).squareRoot()
            cache.invStd[ch] = invStd
            for b in 0..<n {
                let base = (b * c + ch) * spatial
                for i in 0..<spatial {
                    let xhat = (x.data[base + i] - mean) * invStd
                    cache.normalized[base + i] = xhat
                    y.data[base + i] = gamma[ch] * xhat + beta[ch]
                }
            }
        }
        return y
    }

    /// Accumulates γ/β gradients (when trainable) and returns dX.
    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let (n, c, h, w) = dy.nchw
        let spatial = h * w
        let m = Float(n * spatial)
        let gamma = store.values(weight)
        let trainable = store.isTrainable(weight)
        let dGamma = store.gradients(weight)
        let dBeta = store.gradients(bias)
        var dx = Tensor(zeros: dy.shape)
        for ch in 0..<c {
            var sumDy = 0.0
            var sumDyXhat = 0.0
            for b in 0..<n {
                let base = (b * c + ch) * spatial
                for i in 0..<spatial {
                    sumDy += Double(dy.data[base + i])
                    sumDyXhat += Double(dy.data[base + i]) * Double(cache.normalized[base + i])
                }
            }
            if trainable {
                dGamma[ch] += Float(sumDyXhat)
                dBeta[ch] += Float(sumDy)
            }
            let scale = gamma[ch] * cache.invStd[ch]
            if cache.mode == .train {
                let meanDy = Float(sumDy) / m
                let meanDyXhat = Float(sumDyXhat) / m
                for b in 0..<n {
                    let base = (b * c + ch) * spatial
                    for i in 0..<spatial {
                        dx.data[base + i] = scale * (dy.data[base + i] - meanDy - cache.normalized[base + i] * meanDyXhat)
                    }
                }
            } else {
                for b in 0..<n {
                    let base = (b * c + ch) * spatial
                    for i in 0..<spatial { dx.data[base + i] = scale * dy.data[base + i] }
                }
            }
        }
        return dx
    }
}
