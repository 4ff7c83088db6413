// ClassificationHead: Linear → ReLU → Dropout per hidden width, then a final Linear (spec §3.2).
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
    }

    public init(_ store: ParameterStore, _ prefix: String, inFeatures: Int, hidden: [Int], dropout: Float, classes: Int) {
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
            if let bias = linear.bias { Initializers.defaultBias(store, bias, fanIn: linear.inFeatures, random: &random) }
        }
    }

    public func forward(_ x: Tensor, _ store: ParameterStore, training: Bool, random: inout PCG64, cache: inout Cache) -> Tensor {
        cache.linears = Array(repeating: Linear.Cache(), count: linears.count)
        cache.activations = []
        cache.dropouts = Array(repeating: Dropout.Cache(), count: linears.count - 1)
        var y = x
        for (index, linear) in linears.enumerated() {
            y = linear.forward(y, store, cache: &cache.linears[index])
            if index < linears.count - 1 {
                y = ReLU.forward(y)
                cache.activations.append(y)
                y = dropout.forward(y, training: training, random: &random, cache: &cache.dropouts[index])
            }
        }
        return y
    }

    public func backward(_ dy: Tensor, _ store: ParameterStore, cache: Cache) -> Tensor {
        var d = dy
        for index in linears.indices.reversed() {
            if index < linears.count - 1 {
                d = ReLU.backward(dropout.backward(d, cache: cache.dropouts[index]), output: cache.activations[index])
            }
            d = linears[index].backward(d, store, cache: cache.linears[index])
        }
        return d
    }
}
