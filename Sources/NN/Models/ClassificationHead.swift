// ClassificationHead: Linear → ReLU → Dropout per hidden width, then a final Linear (the research heads).
import AblateSupport

/// The research `ClassificationHead`; tensors `prefix.N.weight/bias` with N = 0, 3, 6, … (each hidden width adds
/// Linear, ReLU, Dropout to the PyTorch `Sequential`).
public final class ClassificationHead {
    let linears: [Linear]
    let dropout: Dropout

    public struct Cache {
        var linears: [Linear.Cache] = []
        var activations: [Tensor] = []
        var dropouts: [Dropout.Cache] = []
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            for index in linears.indices { linears[index].recycle(into: pool) }
            for index in activations.indices { pool.recycle(&activations[index]) }
            for index in dropouts.indices { dropouts[index].recycle(into: pool) }
        }
    }

    public init(_ store: ParameterStore, _ prefix: String, inFeatures: Int, hidden: [Int], dropout: Float, classes: Int)
    {
        var linears: [Linear] = []
        var previous = inFeatures
        for (index, width) in (hidden + [classes]).enumerated() {
            linears.append(Linear(store, "\(prefix).\(3 * index)", inFeatures: previous, outFeatures: width))
            previous = width
        }
        self.linears = linears
        self.dropout = Dropout(probability: dropout)
    }

    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        for linear in linears {
            Initializers.defaultWeight(store, linear.weight, random: &random)
            if let bias = linear.bias {
                Initializers.defaultBias(store, bias, fanIn: linear.inFeatures, random: &random)
            }
        }
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, training: Bool, random: inout PCG64, cache: inout Cache)
        -> Tensor
    {
        // The cache's arrays are sized once and reused by every later pass.
        if cache.linears.count != linears.count {
            cache.linears = Array(repeating: Linear.Cache(), count: linears.count)
            cache.activations = Array(repeating: Tensor(zeros: [0]), count: linears.count - 1)
            cache.dropouts = Array(repeating: Dropout.Cache(), count: linears.count - 1)
        }
        let pool = BufferPool.current
        var y = x
        for (index, linear) in linears.enumerated() {
            y = linear.forward(y, store, cache: &cache.linears[index])
            if index < linears.count - 1 {
                pool.replace(&y) { ReLU.forward($0) }
                cache.activations[index] = y
                y = dropout.forward(y, training: training, random: &random, cache: &cache.dropouts[index])
            }
        }
        return y
    }

    /// Temporaries go back to this thread's pool as soon as they are used; `dy` is the caller's.
    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        let pool = BufferPool.current
        var d = dy
        for index in linears.indices.reversed() {
            if index < linears.count - 1 {
                pool.replace(&d) { dropout.backward($0, cache: cache.dropouts[index]) }
                pool.replace(&d) { ReLU.backward($0, output: cache.activations[index]) }
            }
            pool.replace(&d) { linears[index].backward($0, store, cache: cache.linears[index]) }
        }
        return d
    }
}
