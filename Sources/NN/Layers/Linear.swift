// Linear: fully connected layer y = x·Wᵀ + b, forward and backward via sgemm.

/// `torch.nn.Linear`: input `[N, in]`, weight `[out, in]`, bias `[out]`.
public final class Linear {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: ParameterRef
    public let bias: ParameterRef?

    public struct Cache {
        public var input = Tensor(zeros: [0])
        var outputShape: [Int] = []
        public init() {}

        /// Hands the cached input to `pool` (the start of the next step).
        public mutating func recycle(into pool: BufferPool) { pool.recycle(&input) }
    }

    public init(_ store: ParameterStore, _ name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = store.add("\(name).weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? store.add("\(name).bias", shape: [outFeatures]) : nil
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, cache: inout Cache) -> Tensor {
        let n = x.shape[0]
        precondition(x.count == n * inFeatures, "linear: input shape \(x.shape), expected [N, \(inFeatures)]")
        // Rows padded to BLAS.rowPadding so each row's result does not depend on the batch size. Without padding
        // rows the product is written straight into the output.
        let rows = BLAS.paddedRows(n)
        let pool = BufferPool.current
        var input = x.data
        var output = pool.take(rows * outFeatures)
        defer {
            pool.recycle(&input)
            pool.recycle(&output)
        }
        if rows > n {
            input = pool.take(rows * inFeatures)
            input.withUnsafeMutableBufferPointer { target in
                x.data.withUnsafeBufferPointer { source in
                    guard let tp = target.baseAddress, let sp = source.baseAddress else { return }
                    tp.update(from: sp, count: n * inFeatures)
                    (tp + n * inFeatures).update(repeating: 0, count: (rows - n) * inFeatures)
                }
            }
        }
        output.withUnsafeMutableBufferPointer { yb in
            // The bias is the product's starting value (beta 1) on the real rows; padding rows start at zero.
            if let bias {
                let b = store.values(bias)
                for row in 0..<n {
                    for o in 0..<outFeatures { yb[row * outFeatures + o] = b[o] }
                }
                for i in (n * outFeatures)..<(rows * outFeatures) { yb[i] = 0 }
            }
            input.withUnsafeBufferPointer { xb in
                guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
                BLAS.sgemm(
                    transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: xp, b: store.values(weight),
                    beta: bias == nil ? 0 : 1, c: yp)
            }
        }
        cache.input = x
        let shape = Tensor.reusingShape(&cache.outputShape, n, outFeatures)
        if rows == n {
            // The output buffer itself becomes the result (and is not recycled).
            let result = output
            output = []
            return Tensor(shape: shape, data: result)
        }
        return Tensor(shape: shape) { yp in
            output.withUnsafeBufferPointer { source in
                guard let sp = source.baseAddress else { return }
                yp.update(from: sp, count: n * outFeatures)
            }
        }
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache, inputGradient: Bool = true) -> Tensor {
        let x = cache.input
        let n = x.shape[0]
        var dx = Tensor(zeros: inputGradient ? x.shape : [0])
        dy.data.withUnsafeBufferPointer { dyb in
            x.data.withUnsafeBufferPointer { xb in
                dx.data.withUnsafeMutableBufferPointer { dxb in
                    guard let dyp = dyb.baseAddress, let xp = xb.baseAddress else { return }
                    if store.isTrainable(weight) {
                        BLAS.sgemm(
                            transposeA: true, m: outFeatures, n: inFeatures, k: n, a: dyp, b: xp, beta: 1,
                            c: store.gradients(weight))
                    }
                    if inputGradient, let dxp = dxb.baseAddress {
                        BLAS.sgemm(m: n, n: inFeatures, k: outFeatures, a: dyp, b: store.values(weight), c: dxp)
                    }
                }
            }
        }
        if let bias, store.isTrainable(bias) {
            let db = store.gradients(bias)
            for row in 0..<n {
                for o in 0..<outFeatures { db[o] += dy.data[row * outFeatures + o] }
            }
        }
        return dx
    }
}
