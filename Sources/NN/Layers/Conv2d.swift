// Conv2d: 2-D convolution (stride, padding, groups incl. depth-wise, optional bias); forward and backward via im2col + sgemm.
import Synchronization

/// `torch.nn.Conv2d` with square kernels, NCHW input and OIHW weights (`[out, in/groups, k, k]`).
///
/// Forward per image and group: `Y_g = W_g · im2col(X_g)` (+ bias). Backward: `dW_g += dY_g · im2col(X_g)ᵀ`,
/// `dX_g = col2im(W_gᵀ · dY_g)`, `db = Σ dY`. The plain-loop `ReferenceConv` computes the same and the tests
/// compare the two on odd shapes.
public final class Conv2d {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let groups: Int
    /// Whether maps of at most `smallMapLimit` output positions use the tap-skipping path (the plain
    /// im2col path is kept for comparison and benchmarks).
    public var useSmallMapPath = true
    public let weight: ParameterRef
    public let bias: ParameterRef?
    /// Weight columns gathered for a tap set (small-map path), valid while the weight's store version is unchanged.
    /// Locked: eval-mode forward passes of one model run on several threads (`ParallelBatches`).
    let gatheredWeights = Mutex<[GatherKey: (version: Int, values: [Float])]>([:])

    struct GatherKey: Hashable {
        let group: Int
        let taps: UInt64
    }

    /// Tap plans of the small-map path by input height and width (built once per input size).
    let smallMapPlans = Mutex<[PlanKey: SmallMapPlan]>([:])

    struct PlanKey: Hashable {
        let h, w: Int
    }

    /// What backward needs from forward.
    public struct Cache {
        public var input = Tensor(zeros: [0])
        var outputShape: [Int] = []
        public init() {}

        /// Hands the cached input to `pool` (the start of the next step).
        public mutating func recycle(into pool: BufferPool) { pool.recycle(&input) }
    }

    /// Registers `name.weight` (and `name.bias`) in `store`.
    public init(
        _ store: ParameterStore, _ name: String, inChannels: Int, outChannels: Int, kernel: Int,
        stride: Int = 1, padding: Int = 0, groups: Int = 1, bias: Bool = true
    ) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "\(name): channels must divide into groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        weight = store.add("\(name).weight", shape: [outChannels, inChannels / groups, kernel, kernel])
        self.bias = bias ? store.add("\(name).bias", shape: [outChannels]) : nil
    }

    /// Output height and width for an input of `h`×`w`.
    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, cache: inout Cache) -> Tensor {
        let (n, c, h, w) = x.nchw
        precondition(c == inChannels, "conv: input has \(c) channels, expected \(inChannels)")
        let (ho, wo) = outputSize(h, w)
        let cg = inChannels / groups
        let og = outChannels / groups
        let k = cg * kernel * kernel
        let spatial = ho * wo
        var y = Tensor(zeros: Tensor.reusingShape(&cache.outputShape, n, outChannels, ho, wo))
        if useSmallMapPath, spatial <= Self.smallMapLimit {
            forwardSmall(x, store, into: &y)
            addBias(&y, store)
            cache.input = x
            return y
        }
        let pool = BufferPool.current
        // im2col writes every element of the column matrix.
        var col = pool.take(k * spatial)
        defer { pool.recycle(&col) }
        let wp = UnsafePointer(store.values(weight))
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                col.withUnsafeMutableBufferPointer { cb in
                    guard let xp = xb.baseAddress, let yp = yb.baseAddress, let cp = cb.baseAddress else { return }
                    for image in 0..<n {
                        for g in 0..<groups {
                            im2col(xp + (image * c + g * cg) * h * w, channels: cg, h: h, w: w, ho: ho, wo: wo, col: cp)
                            BLAS.sgemm(
                                m: og, n: spatial, k: k, a: wp + g * og * k, b: cp,
                                c: yp + (image * outChannels + g * og) * spatial)
                        }
                    }
                }
            }
        }
        addBias(&y, store)
        cache.input = x
        return y
    }

    private func addBias(_ y: inout Tensor, _ store: ParameterStore) {
        guard let bias else { return }
        let bp = store.values(bias)
        let (n, _, ho, wo) = y.nchw
        let spatial = ho * wo
        for image in 0..<n {
            for o in 0..<outChannels {
                let base = (image * outChannels + o) * spatial
                for i in 0..<spatial { y.data[base + i] += bp[o] }
            }
        }
    }

    /// Accumulates weight/bias gradients (when trainable) and returns dX (or an empty tensor when `inputGradient` is false).
    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache, inputGradient: Bool = true) -> Tensor {
        let x = cache.input
        let (n, c, h, w) = x.nchw
        let (ho, wo) = outputSize(h, w)
        let cg = inChannels / groups
        let og = outChannels / groups
        let k = cg * kernel * kernel
        let spatial = ho * wo
        let weightGradient = store.isTrainable(weight)
        if useSmallMapPath, spatial <= Self.smallMapLimit {
            let dx = backwardSmall(dy, store, input: x, inputGradient: inputGradient)
            accumulateBiasGradient(dy, store)
            return dx
        }
        var dx = Tensor(zeros: inputGradient ? x.shape : [0])
        // Written in full before each use: by im2col, or by the product (beta 0).
        let pool = BufferPool.current
        var col = pool.take(k * spatial)
        defer { pool.recycle(&col) }
        let wp = UnsafePointer(store.values(weight))
        let dwp = store.gradients(weight)
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { dyb in
                dx.data.withUnsafeMutableBufferPointer { dxb in
                    col.withUnsafeMutableBufferPointer { cb in
                        guard let xp = xb.baseAddress, let dyp = dyb.baseAddress, let cp = cb.baseAddress else {
                            return
                        }
                        for image in 0..<n {
                            for g in 0..<groups {
                                let dyg = dyp + (image * outChannels + g * og) * spatial
                                if weightGradient {
                                    im2col(
                                        xp + (image * c + g * cg) * h * w, channels: cg, h: h, w: w, ho: ho, wo: wo,
                                        col: cp)
                                    BLAS.sgemm(
                                        transposeB: true, m: og, n: k, k: spatial, a: dyg, b: cp, beta: 1,
                                        c: dwp + g * og * k)
                                }
                                if inputGradient, let dxp = dxb.baseAddress {
                                    BLAS.sgemm(
                                        transposeA: true, m: k, n: spatial, k: og, a: wp + g * og * k, b: dyg, c: cp)
                                    col2im(
                                        cp, channels: cg, h: h, w: w, ho: ho, wo: wo,
                                        dx: dxp + (image * c + g * cg) * h * w)
                                }
                            }
                        }
                    }
                }
            }
        }
        accumulateBiasGradient(dy, store)
        return dx
    }

    private func accumulateBiasGradient(_ dy: Tensor, _ store: ParameterStore) {
        let (n, _, ho, wo) = dy.nchw
        let spatial = ho * wo
        if let bias, store.isTrainable(bias) {
            let db = store.gradients(bias)
            for image in 0..<n {
                for o in 0..<outChannels {
                    let base = (image * outChannels + o) * spatial
                    var sum: Float = 0
                    for i in 0..<spatial { sum += dy.data[base + i] }
                    db[o] += sum
                }
            }
        }
    }

    /// Unfolds `channels` planes into `[channels·k·k, ho·wo]` (zeros where the window leaves the image).
    private func im2col(
        _ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, ho: Int, wo: Int, col: UnsafeMutablePointer<Float>
    ) {
        var row = 0
        for ch in 0..<channels {
            let plane = x + ch * h * w
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let out = col + row * ho * wo
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h {
                            (out + oy * wo).update(repeating: 0, count: wo)
                            continue
                        }
                        for ox in 0..<wo {
                            let ix = ox * stride - padding + kx
                            out[oy * wo + ox] = ix >= 0 && ix < w ? plane[iy * w + ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Adds a `[channels·k·k, ho·wo]` column matrix back onto `channels` planes (the adjoint of im2col).
    private func col2im(
        _ col: UnsafePointer<Float>, channels: Int, h: Int, w: Int, ho: Int, wo: Int, dx: UnsafeMutablePointer<Float>
    ) {
        var row = 0
        for ch in 0..<channels {
            let plane = dx + ch * h * w
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let source = col + row * ho * wo
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h { continue }
                        for ox in 0..<wo {
                            let ix = ox * stride - padding + kx
                            if ix >= 0 && ix < w { plane[iy * w + ix] += source[oy * wo + ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
