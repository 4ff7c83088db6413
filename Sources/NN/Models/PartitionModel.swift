// PartitionModel: the stage models — Stage 1 (backbone + 2-way head) and the adapter models of Stage 2 and 3.
import AblateSupport
import RunSpec

/// The head of each stage's model.
extension Stage {
    /// Head: hidden widths, dropout, classes (Stage 1 with the 2-logit head the research scripts train).
    public var head: (hidden: [Int], dropout: Float, classes: Int) {
        switch self {
        case .stage1: ([256], 0.3, 2)
        case .stage2: ([256, 128], 0.4, 3)
        case .stage3Rect: ([128, 64], 0.2, 2)
        case .stage3AB: ([256, 128], 0.5, 4)
        }
    }
}

/// The architecture of a model; everything that changes the tensors it holds.
public struct ModelConfig: Sendable, Codable, Equatable {
    public var stage: Stage
    /// Backbone base width; 64 is the research model.
    public var width: Int
    /// Adapter reduction γ (hidden = C / γ).
    public var adapterReduction: Int
    /// Backbone stages (1…4) followed by an adapter.
    public var adapterLayers: [Int]

    public init(stage: Stage, width: Int = 64, adapterReduction: Int = 4, adapterLayers: [Int] = [3, 4]) {
        self.stage = stage
        self.width = width
        self.adapterReduction = adapterReduction
        self.adapterLayers = adapterLayers.sorted()
    }
}

/// Backbone + optional Conv-Adapters + head, with all tensors in one `ParameterStore` under the research module
/// tree's names (`backbone.…`, `adapters.layerK.…`, `head.head.N.…`).
public final class PartitionModel {
    public let config: ModelConfig
    public let store = ParameterStore(capacity: 1 << 20)
    public let backbone: Backbone
    /// Adapters by backbone stage index 0…3.
    public let adapters: [Int: ConvAdapter]
    public let head: ClassificationHead

    /// BatchNorm modes and dropout for one forward pass.
    public struct Mode: Sendable {
        /// Mode of the backbone's BatchNorms (`eval` is the research fix for frozen backbones).
        public var backboneBN: BatchNorm2d.Mode
        /// Mode of the adapters' BatchNorms.
        public var adapterBN: BatchNorm2d.Mode
        /// Whether dropout is active.
        public var dropout: Bool

        public init(backboneBN: BatchNorm2d.Mode, adapterBN: BatchNorm2d.Mode, dropout: Bool) {
            self.backboneBN = backboneBN
            self.adapterBN = adapterBN
            self.dropout = dropout
        }

        public static let evaluation = Mode(backboneBN: .eval, adapterBN: .eval, dropout: false)
    }

    public struct Cache {
        var stem = Backbone.StemCache()
        var stages = [Backbone.StageCache](repeating: Backbone.StageCache(), count: 4)
        var adapters = [ConvAdapter.Cache](repeating: ConvAdapter.Cache(), count: 4)
        var pooledShape: [Int] = []
        var featureShape: [Int] = []
        var head = ClassificationHead.Cache()
        public init() {}

        /// Hands every buffer of the previous pass to this thread's `BufferPool`, which the next pass takes them
        /// from (each forward pass starts with this, so a reused cache makes steps allocate no buffers).
        public mutating func recycle() {
            let pool = BufferPool.current
            stem.recycle(into: pool)
            for index in stages.indices { stages[index].recycle(into: pool) }
            for index in adapters.indices { adapters[index].recycle(into: pool) }
            head.recycle(into: pool)
        }
    }

    /// Builds the model and initialises it from `seed` (backbone as torchvision, adapters and head as the research
    /// code).
    public init(_ config: ModelConfig, seed: UInt64) {
        self.config = config
        backbone = Backbone(store, width: config.width)
        var adapters: [Int: ConvAdapter] = [:]
        if config.stage.usesAdapters {
            for layer in config.adapterLayers {
                precondition((1...4).contains(layer), "adapter layer \(layer) must be 1…4")
                adapters[layer - 1] = ConvAdapter(
                    store, "adapters.layer\(layer)", channels: backbone.stageChannels[layer - 1],
                    reduction: config.adapterReduction)
            }
        }
        self.adapters = adapters
        let spec = config.stage.head
        head = ClassificationHead(
            store, "head.head", inFeatures: backbone.featureCount, hidden: spec.hidden, dropout: spec.dropout,
            classes: spec.classes)
        var random = InitRandom(seed: seed)
        backbone.initialize(store, random: &random)
        for layer in adapters.keys.sorted() { adapters[layer]?.initialize(store, random: &random) }
        head.initialize(store, random: &random)
        if config.stage.usesAdapters { store.setTrainable(false, prefix: "backbone.") }
    }

    /// Logits `[N, classes]` for input `[N, 1, H, W]`.
    public func forward(_ x: Tensor, mode: Mode, random: inout PCG64, cache: inout Cache) -> Tensor {
        cache.recycle()
        let stem = backbone.forwardStem(x, store, bn: mode.backboneBN, cache: &cache.stem)
        return forward(stem, fromStage: 0, mode: mode, random: &random, cache: &cache)
    }

    /// The frozen prefix that precedes the first adapter: stem and backbone stages `0…k` where adapter `k` is the
    /// first one (nil for models without adapters). Its output is a fixed function of the input in eval mode.
    public var frozenPrefixLastStage: Int? {
        guard config.stage.usesAdapters else { return nil }
        return adapters.keys.min()
    }

    /// The frozen prefix's output (eval mode) for input `[N, 1, H, W]`: what the prefix cache stores.
    public func forwardPrefix(_ x: Tensor, cache: inout Cache) -> Tensor? {
        guard let last = frozenPrefixLastStage else { return nil }
        cache.recycle()
        var y = backbone.forwardStem(x, store, bn: .eval, cache: &cache.stem)
        for stage in 0...last {
            y = backbone.forwardStage(stage, y, store, bn: .eval, cache: &cache.stages[stage])
        }
        return y
    }

    /// Logits from the prefix's output (`forwardPrefix`): the first adapter, the rest of the backbone, the head.
    public func forward(prefixOutput: Tensor, mode: Mode, random: inout PCG64, cache: inout Cache) -> Tensor? {
        guard let last = frozenPrefixLastStage, let adapter = adapters[last] else { return nil }
        cache.recycle()
        let y = adapter.forward(prefixOutput, store, bn: mode.adapterBN, cache: &cache.adapters[last])
        return forward(y, fromStage: last + 1, mode: mode, random: &random, cache: &cache)
    }

    /// Runs backbone stages from `first` on (each followed by its adapter) and the head.
    private func forward(_ input: Tensor, fromStage first: Int, mode: Mode, random: inout PCG64, cache: inout Cache)
        -> Tensor
    {
        var y = input
        for stage in first..<4 {
            y = backbone.forwardStage(stage, y, store, bn: mode.backboneBN, cache: &cache.stages[stage])
            if let adapter = adapters[stage] {
                y = adapter.forward(y, store, bn: mode.adapterBN, cache: &cache.adapters[stage])
            }
        }
        cache.pooledShape = y.shape
        let pool = BufferPool.current
        pool.replace(&y) { GlobalAvgPool.forward($0, shape: &cache.featureShape) }
        pool.replace(&y) { head.forward($0, store, training: mode.dropout, random: &random, cache: &cache.head) }
        return y
    }

    /// Accumulates the gradients of every trainable tensor for upstream gradient `dLogits`; stops as soon as
    /// nothing upstream is trainable (a frozen prefix is never back-propagated).
    public func backward(_ dLogits: Tensor, cache: Cache) {
        let backboneTrainable = !config.stage.usesAdapters
        let firstAdapter = adapters.keys.min() ?? 4
        let pool = BufferPool.current
        // Each intermediate gradient goes back to the pool once the next one is computed.
        var d = GlobalAvgPool.backward(head.backward(dLogits, store, cache: cache.head), inputShape: cache.pooledShape)
        defer { pool.recycle(&d) }
        for stage in (0..<4).reversed() {
            if let adapter = adapters[stage] {
                pool.replace(&d) { adapter.backward($0, store, cache: cache.adapters[stage]) }
            }
            if !backboneTrainable && stage <= firstAdapter { return }
            pool.replace(&d) { backbone.backwardStage(stage, $0, store, cache: cache.stages[stage]) }
        }
        if backboneTrainable { backbone.backwardStem(d, store, cache: cache.stem) }
    }
}
