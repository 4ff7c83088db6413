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

    /// The tap plan for `h`×`w` inputs (and its flat form for depth-wise loops), built on first use.
    func smallMapPlan(h: Int, w: Int) -> SmallMapPlan {
        let key = PlanKey(h: h, w: w)
        if let plan = smallMapPlans.withLock({ $0[key] }) { return plan }
        let (ho, wo) = outputSize(h, w)
        let taps = tapPlan(h: h, w: w, ho: ho, wo: wo)
        let plan = SmallMapPlan(
            taps: taps, depthwise: isDepthwise ? DepthwiseTaps(taps, kernel: kernel, width: w) : nil)
        smallMapPlans.withLock { $0[key] = plan }
        return plan
    }

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
        // The previous gather's buffer, taken out of the cache so that it is rewritten in place (a trainable layer
        // regathers after every update).
        var wp = gatheredWeights.withLock { $0.removeValue(forKey: key)?.values } ?? []
        if wp.count != og * k { wp = [Float](repeating: 0, count: og * k) }
        wp.withUnsafeMutableBufferPointer { target in
            // A 1×1 kernel's group `g` already is `W_p`, row after row: one copy.
            if kk == 1 {
                target.baseAddress?.update(from: weights + g * og * cg, count: og * k)
                return
            }
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

    /// The input in channels-last order `[N, H, W, C]`, so that a tap's channels are contiguous (a pool buffer).
    static func channelsLast(_ x: Tensor) -> [Float] {
        let (n, c, h, w) = x.nchw
        let plane = h * w
        var result = BufferPool.current.take(x.count)
        x.data.withUnsafeBufferPointer { xp in
            result.withUnsafeMutableBufferPointer { out in
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
        }
        return result
    }

    /// `A [rows, T·cg]`: group `g`'s input at `taps` for every image (tap-major, then channel); rows past the
    /// batch are zero. `channelsLast` is the input in `[N, H, W, C]` order (nil when the input already is the
    /// operand: one group, a 1×1 map, one tap).
    func gatherOperand(_ x: Tensor, channelsLast: [Float]?, group g: Int, taps: [Tap], rows: Int) -> [Float] {
        let (n, c, h, w) = x.nchw
        let cg = inChannels / groups
        let k = cg * taps.count
        guard let xt = channelsLast else {
            if rows == n { return x.data }
            var padded = BufferPool.current.take(rows * k)
            padded.withUnsafeMutableBufferPointer { target in
                x.data.withUnsafeBufferPointer { source in
                    guard let tp = target.baseAddress, let sp = source.baseAddress else { return }
                    tp.update(from: sp, count: n * k)
                    (tp + n * k).update(repeating: 0, count: (rows - n) * k)
                }
            }
            return padded
        }
        var operand = BufferPool.current.take(rows * k)
        xt.withUnsafeBufferPointer { xp in
            operand.withUnsafeMutableBufferPointer { a in
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
                for i in (n * k)..<(rows * k) { a[i] = 0 }
            }
        }
        return operand
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
        let planned = smallMapPlan(h: h, w: w)
        let plan = planned.taps
        let weights = store.values(weight)
        let kk = kernel * kernel
        let outPlane = ho * wo
        if let taps = planned.depthwise {
            let outChannels = outChannels
            x.data.withUnsafeBufferPointer { xb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
                    // Each channel's outputs depend on that channel alone: channels are split over the threads.
                    ComputePool.shared.forRanges(c, parallel: n * c * taps.count >= ComputePool.parallelMinimum) {
                        channels in
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
        let pool = BufferPool.current
        var xt = channelsLastIfNeeded(x, plan: plan)
        defer { pool.recycle(&xt) }
        for g in 0..<groups {
            for (p, taps) in plan.enumerated() where !taps.isEmpty {
                let k = cg * taps.count
                let rows = BLAS.paddedRows(n)
                var a = gatherOperand(x, channelsLast: xt, group: g, taps: taps, rows: rows)
                defer { pool.recycle(&a) }
                let wp = weightColumns(group: g, taps: taps, store)
                if groups == 1 && outPlane == 1 && rows == n {
                    // One position, one group, no padding rows: the product is the output itself.
                    BLAS.sgemm(transposeB: true, m: rows, n: og, k: k, a: a, b: wp, c: &y.data)
                    continue
                }
                // Written in full by the product (beta 0).
                var yp = pool.take(rows * og)
                defer { pool.recycle(&yp) }
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
                                    for o in 0..<og {
                                        target[(b * outChannels + g * og + o) * outPlane + p] = source[b * og + o]
                                    }
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
        let planned = smallMapPlan(h: h, w: w)
        let plan = planned.taps
        let weights = store.values(weight)
        let dWeights = store.gradients(weight)
        let weightGradient = store.isTrainable(weight)
        let kk = kernel * kernel
        let outPlane = ho * wo
        var dx = Tensor(zeros: inputGradient ? x.shape : [0])
        if let taps = planned.depthwise {
            let outChannels = outChannels
            x.data.withUnsafeBufferPointer { xb in
                dy.data.withUnsafeBufferPointer { db in
                    dx.data.withUnsafeMutableBufferPointer { dxb in
                        guard let xp = xb.baseAddress, let dp = db.baseAddress else { return }
                        let dxp = dxb.baseAddress
                        // A channel's dW and dX depend on that channel alone, so channels are split over the threads and
                        // each channel's dW still sums over images in order.
                        ComputePool.shared.forRanges(c, parallel: n * c * taps.count >= ComputePool.parallelMinimum) {
                            channels in
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
        let pool = BufferPool.current
        var xt = weightGradient ? channelsLastIfNeeded(x, plan: plan) : nil
        defer { pool.recycle(&xt) }
        for g in 0..<groups {
            for (p, taps) in plan.enumerated() where !taps.isEmpty {
                let k = cg * taps.count
                // With one group and one position, dY already is the operand `[N, O]`.
                var dyp = groups == 1 && outPlane == 1 ? dy.data : gatherGradient(dy, group: g, position: p)
                defer { pool.recycle(&dyp) }
                if weightGradient {
                    var a = gatherOperand(x, channelsLast: xt, group: g, taps: taps, rows: n)
                    defer { pool.recycle(&a) }
                    // Written in full by the product (beta 0).
                    var dwp = pool.take(og * k)
                    defer { pool.recycle(&dwp) }
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
                    var da = pool.take(n * k)
                    defer { pool.recycle(&da) }
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
    /// `dY [N, og]` of group `g` at output position `p` (a pool buffer).
    func gatherGradient(_ dy: Tensor, group g: Int, position p: Int) -> [Float] {
        let (n, _, ho, wo) = dy.nchw
        let og = outChannels / groups
        let outPlane = ho * wo
        var result = BufferPool.current.take(n * og)
        dy.data.withUnsafeBufferPointer { dp in
            result.withUnsafeMutableBufferPointer { buffer in
                for b in 0..<n {
                    for o in 0..<og { buffer[b * og + o] = dp[(b * outChannels + g * og + o) * outPlane + p] }
                }
            }
        }
        return result
    }

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

/// The in-image taps of every output position for one input size, and for depth-wise convolutions their flat form.
struct SmallMapPlan {
    let taps: [[Conv2d.Tap]]
    let depthwise: DepthwiseTaps?
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
