// Pooling: MaxPool2d (padding counts as −∞) and global average pooling, forward and backward.

/// `torch.nn.MaxPool2d(kernel, stride, padding)`; backward routes each gradient to its window's first maximum.
public struct MaxPool2d: Sendable {
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public struct Cache {
        public var argmax: [Int32] = []
        public var inputShape: [Int] = []
        var outputShape: [Int] = []
        public init() {}

        /// Hands the cached indices to `pool` (the start of the next step).
        public mutating func recycle(into pool: BufferPool) { pool.recycle(&argmax) }
    }

    public init(kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public func forward(_ x: Tensor, cache: inout Cache) -> Tensor {
        let (n, c, h, w) = x.nchw
        let ho = (h + 2 * padding - kernel) / stride + 1
        let wo = (w + 2 * padding - kernel) / stride + 1
        // Every output and index is written below.
        var y = Tensor(shape: Tensor.reusingShape(&cache.outputShape, n, c, ho, wo)) { _ in }
        var argmax = BufferPool.current.indices(y.count, repeating: -1)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    let yp = yp, ap = ap
                    ComputePool.shared.forRanges(n * c, parallel: x.count >= ComputePool.parallelMinimum) { planes in
                        for plane in planes {
                            let base = plane * h * w
                            for oy in 0..<ho {
                                let y0 = max(0, oy * stride - padding), y1 = min(h, oy * stride - padding + kernel)
                                for ox in 0..<wo {
                                    let x0 = max(0, ox * stride - padding), x1 = min(w, ox * stride - padding + kernel)
                                    var best = -Float.infinity
                                    var bestIndex = -1
                                    for iy in y0..<y1 {
                                        for ix in x0..<x1 {
                                            let v = xp[base + iy * w + ix]
                                            if v > best || bestIndex < 0 || v.isNaN {
                                                best = v
                                                bestIndex = base + iy * w + ix
                                            }
                                        }
                                    }
                                    let out = (plane * ho + oy) * wo + ox
                                    yp[out] = best
                                    ap[out] = Int32(bestIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
        cache.argmax = argmax
        cache.inputShape = x.shape
        return y
    }

    /// Each output's gradient goes to its window's maximum. Windows stay inside their plane, so planes are
    /// independent; within one, gradients are added in output order.
    public func backward(_ dy: Tensor, cache: Cache) -> Tensor {
        var dx = Tensor(zeros: cache.inputShape)
        let (n, c, _, _) = dx.nchw
        let planes = n * c
        guard planes > 0 else { return dx }
        let outputsPerPlane = dy.count / planes
        let parallel = dx.count >= ComputePool.parallelMinimum
        dy.data.withUnsafeBufferPointer { db in
            cache.argmax.withUnsafeBufferPointer { ab in
                dx.data.withUnsafeMutableBufferPointer { xb in
                    guard let dp = db.baseAddress, let ap = ab.baseAddress, let xp = xb.baseAddress else { return }
                    ComputePool.shared.forRanges(planes, parallel: parallel) { range in
                        for i in (range.lowerBound * outputsPerPlane)..<(range.upperBound * outputsPerPlane)
                        where ap[i] >= 0 {
                            xp[Int(ap[i])] += dp[i]
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// `AdaptiveAvgPool2d(1)` + flatten: `[N, C, H, W]` → `[N, C]`.
public enum GlobalAvgPool {
    public static func forward(_ x: Tensor) -> Tensor {
        var shape: [Int] = []
        return forward(x, onePosition: x.nchw.h * x.nchw.w == 1, shape: &shape)
    }

    /// The same, with the output shape `[N, C]` taken from (or stored in) `shape`, a caller's cache.
    public static func forward(_ x: Tensor, shape: inout [Int]) -> Tensor {
        forward(x, onePosition: x.nchw.h * x.nchw.w == 1, shape: &shape)
    }

    /// On a 1×1 map (`onePosition`: layer4 and its SE blocks on 16×16 inputs) each mean is `(0 + x) / 1`, computed
    /// in lanes; `OnePositionTests` checks that against the plane loop bit for bit.
    static func forward(_ x: Tensor, onePosition: Bool, shape cachedShape: inout [Int]) -> Tensor {
        let (n, c, h, w) = x.nchw
        let spatial = h * w
        let shape = Tensor.reusingShape(&cachedShape, n, c)
        if onePosition {
            return Tensor(
                shape: shape,
                data: Pointwise.map(x.data, x.data) { xp, _, out, range in
                    let zero = Pointwise.Lanes(repeating: 0), one = Pointwise.Lanes(repeating: 1)
                    var i = range.lowerBound
                    while i + Pointwise.laneCount <= range.upperBound {
                        Pointwise.store((zero + Pointwise.load(xp, i)) / one, out, i)
                        i += Pointwise.laneCount
                    }
                    while i < range.upperBound {
                        out[i] = (0 + xp[i]) / 1
                        i += 1
                    }
                })
        }
        return Tensor(shape: shape) { yp in
            x.data.withUnsafeBufferPointer { xb in
                guard let xp = xb.baseAddress else { return }
                for plane in 0..<(n * c) {
                    var sum: Float = 0
                    for i in (plane * spatial)..<((plane + 1) * spatial) { sum += xp[i] }
                    yp[plane] = sum / Float(spatial)
                }
            }
        }
    }

    public static func backward(_ dy: Tensor, inputShape: [Int]) -> Tensor {
        backward(dy, inputShape: inputShape, onePosition: inputShape[2] * inputShape[3] == 1)
    }

    /// On a 1×1 map each gradient is `dy / 1`, which is `dy` exactly, so the array is shared, not copied.
    static func backward(_ dy: Tensor, inputShape: [Int], onePosition: Bool) -> Tensor {
        let spatial = inputShape[2] * inputShape[3]
        if onePosition { return dy.reshaped(inputShape) }
        return Tensor(shape: inputShape) { dxp in
            dy.data.withUnsafeBufferPointer { db in
                guard let dp = db.baseAddress else { return }
                for plane in 0..<dy.count {
                    let g = dp[plane] / Float(spatial)
                    for i in (plane * spatial)..<((plane + 1) * spatial) { dxp[i] = g }
                }
            }
        }
    }
}
