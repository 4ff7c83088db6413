// Conv2d+SmallMap: convolution on small maps as one GEMM per output position over the batch, skipping padding taps.
import Synchronization

/// For maps of at most `Conv2d.smallMapLimit` output positions (16×16 inputs make layer2 2×2 and layer3/layer4,
/// spatial attention and the adapters 1×1), most kernel taps of a padded 3×3 or 7×7 convolution read only zeros.
/// This path visits each output position once for the whole batch, gathers the input at the taps that fall
/// inside the image (1×1 maps: the centre tap only; a 2×2 map: 4 of 9 per position) into `A [N, T·C]` and
/// the matching weight columns into `W_p [O, T·C]`, and computes `Y_p = A · W_pᵀ` with one sgemm. Depth-wise
/// convolutions (one input channel per group) use direct loops instead. Results equal the im2col path up to
/// float summation order (tested against `ReferenceConv`).
extension Conv2d {
    /// Maps with at most this many output positions take the small-map path.
    public static let smallMapLimit = 16

    /// A kernel tap that reads inside the image: kernel offset and input position.
    struct Tap {
        let ky, kx, iy, ix: Int
    }

    /// The in-image taps of every output position, row-major over the output map.
    func tapPlan(h: Int, w: Int, ho: Int, wo: Int) -> [[Tap]] {
        var plan: [[Tap]] = []
        plan.reserveCapacity(ho * wo)
        for oy in 0..<ho {
            for ox in 0..<wo {
                var taps: [Tap] = []
                for ky in 0..<kernel {
                    let iy = oy * stride - padding + ky
                    guard iy >= 0, iy < h else { continue }
                    for kx in 0..<kernel {
                        let ix = ox * stride - padding + kx
                        if ix >= 0 && ix < w { taps.append(Tap(ky: ky, kx: kx, iy: iy, ix: ix)) }
                    }
                }
                plan.append(taps)
            }
        }
        return plan
    }

    var isDepthwise: Bool { groups == inChannels && groups == outChannels }

    /// `W_p [og, T·cg]` for group `g` and `taps`: the weights at those taps, tap-major then input channel. Cached
    /// until the weight tensor changes (frozen layers gather once); a 1×1 kernel needs no gather at all.
    func weightColumns(group g: Int, taps: [Tap], _ store: ParameterStore) -> [Float] {
        let cg = inChannels / groups
        let og = outChannels / groups
        let kk = kernel * kernel
        var mask: UInt64 = 0
        for t in taps { mask |= 1 << UInt64(t.ky * kernel + t.kx) }
        let key = GatherKey(group: g, taps: mask)
        let version = store.versions[weight.index]
        if let cached = gatheredWeights.withLock({ $0[key] }), cached.version == version { return cached.values }
        let weights = store.values(weight)
        let k = cg * taps.count
        // A 1×1 kernel's group `g` already is `W_p`, row after row: one copy.
        if kk == 1 {
            let wp = Array(UnsafeBufferPointer(start: weights + g * og * cg, count: og * k))
            gatheredWeights.withLock { $0[key] = (version, wp) }
            return wp
        }
        var wp = [Float](repeating: 0, count: og * k)
        wp.withUnsafeMutableBufferPointer { target in
            for o in 0..<og {
                for (ti, t) in taps.enumerated() {
                    let base = ((g * og + o) * cg) * kk + t.ky * kernel + t.kx
                    for ci in 0..<cg { target[o * k + ti * cg + ci] = weights[base + ci * kk] }
                }
            }
        }
        gatheredWeights.withLock { $0[key] = (version, wp) }
        return wp
    }

    /// Whether the batch input is already the GEMM operand `A [N, C]`: one group, a 1×1 map, one tap.
    func inputIsOperand(h: Int, w: Int, taps: [Tap]) -> Bool { groups == 1 && h == 1 && w == 1 && taps.count == 1 }

    /// The input in channels-last order `[N, H, W, C]`, so that a tap's channels are contiguous.
    static func channelsLast(_ x: Tensor) -> [Float] {
        let (n, c, h, w) = x.nchw
        let plane = h * w
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.data.withUnsafeBufferPointer { xp in
                let out = out
                ComputePool.shared.forRanges(n, parallel: x.count >= ComputePool.parallelMinimum) { images in
                    for b in images {
                        for ch in 0..<c {
                            let source = (b * c + ch) * plane
                            for p in 0..<plane { out[(b * plane + p) * c + ch] = xp[source + p] }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// `A [rows, T·cg]`: group `g`'s input at `taps` for every image (tap-major, then channel); rows past the
    /// batch are zero. `channelsLast` is the input in `[N, H, W, C]` order (nil when the input already is the
    /// operand: one group, a 1×1 map, one tap).
    func gatherOperand(_ x: Tensor, channelsLast: [Float]?, group g: Int, taps: [Tap], rows: Int) -> [Float] {
        let (n, c, h, w) = x.nchw
        let cg = inChannels / groups
        let k = cg * taps.count
        guard let xt = channelsLast else {
            return rows > n ? x.data + repeatElement(0, count: (rows - n) * k) : x.data
        }
        return [Float](unsafeUninitializedCapacity: rows * k) { a, initialized in
            xt.withUnsafeBufferPointer { xp in
                let a = a
                ComputePool.shared.forRanges(n, parallel: n * k >= ComputePool.parallelMinimum) { images in
                    for b in images {
                        for (ti, t) in taps.enumerated() {
                            let source = ((b * h + t.iy) * w + t.ix) * c + g * cg
                            let target = b * k + ti * cg
                            for ci in 0..<cg { a[target + ci] = xp[source + ci] }
                        }
                    }
                }
            }
            for i in (n * k)..<(rows * k) { a[i] = 0 }
            initialized = rows * k
        }
    }

    /// The channels-last copy of `x` when the small-map path needs gathers (nil for 1×1 maps with one group).
    func channelsLastIfNeeded(_ x: Tensor, plan: [[Tap]]) -> [Float]? {
        let (_, _, h, w) = x.nchw
        if groups == 1 && h == 1 && w == 1 && plan.allSatisfy({ $0.count == 1 }) { return nil }
        return Self.channelsLast(x)
    }

    func forwardSmall(_ x: Tensor, _ store: ParameterStore, into y: inout Tensor) {
        let (n, c, h, w) = x.nchw
        let (ho, wo) = outputSize(h, w)
        let plan = tapPlan(h: h, w: w, ho: ho, wo: wo)
        let weights = store.values(weight)
        let kk = kernel * kernel
        let outPlane = ho * wo
        if isDepthwise {
            let taps = DepthwiseTaps(plan, kernel: kernel, width: w)
            let outChannels = outChannels
            x.data.withUnsafeBufferPointer { xb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
                    // Each channel's outputs depend on that channel alone: channels are split over the threads.
                    ComputePool.shared.forRanges(c, parallel: n * c * taps.count >= ComputePool.parallelMinimum) { channels in
                        for b in 0..<n {
                            for ch in channels {
                                let input = xp + (b * c + ch) * h * w, kernelBase = weights + ch * kk
                                let out = yp + (b * outChannels + ch) * outPlane
                                for p in 0..<outPlane {
                                    var sum: Float = 0
                                    for j in taps.range(p) { sum += input[taps.input[j]] * kernelBase[taps.kernel[j]] }
                                    out[p] = sum
                                }
                            }
                        }
                    }
                }
            }
            return
        }
        let cg = inChannels / groups
        let og = outChannels / groups
        let xt = channelsLastIfNeeded(x, plan: plan)
        for g in 0..<groups {
            for (p, taps) in plan.enumerated() where !taps.isEmpty {
                let k = cg * taps.count
                let rows = BLAS.paddedRows(n)
                let a = gatherOperand(x, channelsLast: xt, group: g, taps: taps, rows: rows)
                let wp = weightColumns(group: g, taps: taps, store)
                if groups == 1 && outPlane == 1 && rows == n {
                    // One position, one group, no padding rows: the product is the output itself.
                    BLAS.sgemm(transposeB: true, m: rows, n: og, k: k, a: a, b: wp, c: &y.data)
                    continue
                }
                var yp = [Float](repeating: 0, count: rows * og)
                BLAS.sgemm(transposeB: true, m: rows, n: og, k: k, a: a, b: wp, c: &yp)
                if groups == 1 && outPlane == 1 {
                    y.data.replaceSubrange(0..<(n * og), with: yp[0..<(n * og)])
                } else {
                    let outChannels = outChannels
                    y.data.withUnsafeMutableBufferPointer { yBuffer in
                        yp.withUnsafeBufferPointer { source in
                            let target = yBuffer
                            ComputePool.shared.forRanges(n, parallel: n * og >= ComputePool.parallelMinimum) { images in
                                for b in images {
                                    for o in 0..<og { target[(b * outChannels + g * og + o) * outPlane + p] = source[b * og + o] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Accumulates dW (when trainable) and returns dX (empty when `inputGradient` is false).
    func backwardSmall(_ dy: Tensor, _ store: ParameterStore, input x: Tensor, inputGradient: Bool) -> Tensor {
        let (n, c, h, w) = x.nchw
        let (ho, wo) = outputSize(h, w)
        let plan = tapPlan(h: h, w: w, ho: ho, wo: wo)
        let weights = store.values(weight)
        let dWeights = store.gradients(weight)
        let weightGradient = store.isTrainable(weight)
        let kk = kernel * kernel
        let outPlane = ho * wo
        var dx = Tensor(zeros: inputGradient ? x.shape : [0])
        if isDepthwise {
            let taps = DepthwiseTaps(plan, kernel: kernel, width: w)
            let outChannels = outChannels
            x.data.withUnsafeBufferPointer { xb in
                dy.data.withUnsafeBufferPointer { db in
                    dx.data.withUnsafeMutableBufferPointer { dxb in
                        guard let xp = xb.baseAddress, let dp = db.baseAddress else { return }
                        let dxp = dxb.baseAddress
                        // A channel's dW and dX depend on that channel alone, so channels are split over the threads and
                        // each channel's dW still sums over images in order.
                        ComputePool.shared.forRanges(c, parallel: n * c * taps.count >= ComputePool.parallelMinimum) { channels in
                            for b in 0..<n {
                                for ch in channels {
                                    let plane = (b * c + ch) * h * w, kernelBase = ch * kk
                                    let gradient = dp + (b * outChannels + ch) * outPlane
                                    for p in 0..<outPlane {
                                        let d = gradient[p]
                                        for j in taps.range(p) {
                                            let wi = kernelBase + taps.kernel[j], xi = plane + taps.input[j]
                                            if weightGradient { dWeights[wi] += d * xp[xi] }
                                            if inputGradient, let dxp { dxp[xi] += d * weights[wi] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return dx
        }
        let cg = inChannels / groups
        let og = outChannels / groups
        let xt = weightGradient ? channelsLastIfNeeded(x, plan: plan) : nil
        for g in 0..<groups {
            for (p, taps) in plan.enumerated() where !taps.isEmpty {
                let k = cg * taps.count
                // With one group and one position, dY already is the operand `[N, O]`.
                let dyp = groups == 1 && outPlane == 1 ? dy.data : [Float](unsafeUninitializedCapacity: n * og) { buffer, initialized in
                    dy.data.withUnsafeBufferPointer { dp in
                        for b in 0..<n {
                            for o in 0..<og { buffer[b * og + o] = dp[(b * outChannels + g * og + o) * outPlane + p] }
                        }
                    }
                    initialized = n * og
                }
                if weightGradient {
                    let a = gatherOperand(x, channelsLast: xt, group: g, taps: taps, rows: n)
                    var dwp = [Float](repeating: 0, count: og * k)
                    BLAS.sgemm(transposeA: true, m: og, n: k, k: n, a: dyp, b: a, c: &dwp)
                    dwp.withUnsafeBufferPointer { source in
                        guard let sp = source.baseAddress else { return }
                        if kk == 1 {
                            // A 1×1 kernel: group g's gradient rows are dW's, in the same order.
                            Self.accumulate(sp, into: dWeights + g * og * cg, count: og * k)
                            return
                        }
                        for o in 0..<og {
                            for (ti, t) in taps.enumerated() {
                                let base = ((g * og + o) * cg) * kk + t.ky * kernel + t.kx
                                for ci in 0..<cg { dWeights[base + ci * kk] += sp[o * k + ti * cg + ci] }
                            }
                        }
                    }
                }
                if inputGradient {
                    let wp = weightColumns(group: g, taps: taps, store)
                    if inputIsOperand(h: h, w: w, taps: taps) && plan.count == 1 {
                        // The only position and tap: dX (still zero) is the product itself; beta 1 adds to zeros.
                        BLAS.sgemm(m: n, n: k, k: og, a: dyp, b: wp, beta: 1, c: &dx.data)
                        continue
                    }
                    var da = [Float](repeating: 0, count: n * k)
                    BLAS.sgemm(m: n, n: k, k: og, a: dyp, b: wp, c: &da)
                    if inputIsOperand(h: h, w: w, taps: taps) {
                        da.withUnsafeBufferPointer { source in
                            dx.data.withUnsafeMutableBufferPointer { target in
                                guard let sp = source.baseAddress, let tp = target.baseAddress else { return }
                                Self.accumulate(sp, into: tp, count: n * k)
                            }
                        }
                    } else {
                        for b in 0..<n {
                            for (ti, t) in taps.enumerated() {
                                let target = ((b * c + g * cg) * h + t.iy) * w + t.ix
                                for ci in 0..<cg { dx.data[target + ci * h * w] += da[b * k + ti * cg + ci] }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

extension Conv2d {
    /// `target[i] += source[i]` for `count` elements, in lanes with a scalar tail (each element one addition).
    static func accumulate(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + Pointwise.laneCount <= count {
            Pointwise.store(Pointwise.load(target, i) + Pointwise.load(source, i), target, i)
            i += Pointwise.laneCount
        }
        while i < count {
            target[i] += source[i]
            i += 1
        }
    }
}

/// A tap plan flattened for the depth-wise loops: position `p`'s taps are `start[p]..<start[p + 1]`, each an
/// offset into the input plane and into the channel's kernel, in the plan's order (so sums keep their order).
struct DepthwiseTaps {
    let start: [Int]
    let input: [Int]
    let kernel: [Int]

    init(_ plan: [[Conv2d.Tap]], kernel size: Int, width: Int) {
        var start = [0], input: [Int] = [], kernel: [Int] = []
        for taps in plan {
            for t in taps {
                input.append(t.iy * width + t.ix)
                kernel.append(t.ky * size + t.kx)
            }
            start.append(input.count)
        }
        self.start = start
        self.input = input
        self.kernel = kernel
    }

    /// Taps over all positions.
    var count: Int { input.count }

    @inline(__always)
    func range(_ position: Int) -> Range<Int> { start[position]..<start[position + 1] }
}
