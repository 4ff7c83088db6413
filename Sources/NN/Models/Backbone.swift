// Backbone: ResNet-18 with a 1-channel 7×7/2 stem, SE after layer1–4 and spatial attention after layer4.

/// The research backbone (`ImprovedBackbone`), run stage by stage so adapters can be inserted between stages.
/// With width 64 it is exactly the research model (11,213,858 parameters); smaller widths scale every layer
/// (`w, 2w, 4w, 8w` channels) for quick demos. Tensor names are prefixed `backbone.`.
public final class Backbone {
    public let width: Int
    /// Channels after layer1…layer4.
    public let stageChannels: [Int]
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let maxpool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
    let layers: [[BasicBlock]]
    let se: [SqueezeExcitation]
    let spatialAttention: SpatialAttention

    /// Feature size after global average pooling.
    public var featureCount: Int { stageChannels[3] }

    public struct StemCache {
        var conv1 = Conv2d.Cache(), bn1 = BatchNorm2d.Cache(), pool = MaxPool2d.Cache()
        var activated = Tensor(zeros: [0])
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            conv1.recycle(into: pool)
            bn1.recycle(into: pool)
            self.pool.recycle(into: pool)
            pool.recycle(&activated)
        }
    }

    public struct StageCache {
        var blocks = [BasicBlock.Cache(), BasicBlock.Cache()]
        var se = SqueezeExcitation.Cache()
        var spatial = SpatialAttention.Cache()
        public init() {}

        /// Hands every cached buffer to `pool` (the start of the next step).
        mutating func recycle(into pool: BufferPool) {
            for index in blocks.indices { blocks[index].recycle(into: pool) }
            se.recycle(into: pool)
            spatial.recycle(into: pool)
        }
    }

    public init(_ store: ParameterStore, prefix: String = "backbone", width: Int = 64) {
        self.width = width
        stageChannels = [width, 2 * width, 4 * width, 8 * width]
        conv1 = Conv2d(
            store, "\(prefix).conv1", inChannels: 1, outChannels: width, kernel: 7, stride: 2, padding: 3, bias: false)
        bn1 = BatchNorm2d(store, "\(prefix).bn1", channels: width)
        var layers: [[BasicBlock]] = []
        var inChannels = width
        for (index, channels) in stageChannels.enumerated() {
            let stride = index == 0 ? 1 : 2
            layers.append([
                BasicBlock(
                    store, "\(prefix).layer\(index + 1).0", inChannels: inChannels, outChannels: channels,
                    stride: stride),
                BasicBlock(
                    store, "\(prefix).layer\(index + 1).1", inChannels: channels, outChannels: channels, stride: 1),
            ])
            inChannels = channels
        }
        self.layers = layers
        se = stageChannels.enumerated().map {
            SqueezeExcitation(store, "\(prefix).se\($0.offset + 1)", channels: $0.element)
        }
        spatialAttention = SpatialAttention(store, "\(prefix).spatial_attn")
    }

    /// torchvision's ResNet initialisation for the convolutions and BatchNorms; PyTorch defaults for SE and attention.
    public func initialize(_ store: ParameterStore, random: inout InitRandom) {
        Initializers.kaimingNormal(store, conv1.weight, fanOut: true, random: &random)
        for block in layers.joined() { block.initialize(store, random: &random) }
        for module in se { module.initialize(store, random: &random) }
        spatialAttention.initialize(store, random: &random)
    }

    /// conv1 → bn1 → ReLU → maxpool.
    public func forwardStem(_ x: Tensor, _ store: ParameterStore, bn mode: BatchNorm2d.Mode, cache: inout StemCache)
        -> Tensor
    {
        let pool = BufferPool.current
        var activated = conv1.forward(x, store, cache: &cache.conv1)
        pool.replace(&activated) { bn1.forward($0, store, mode: mode, cache: &cache.bn1) }
        pool.replace(&activated) { ReLU.forward($0) }
        cache.activated = activated
        return maxpool.forward(activated, cache: &cache.pool)
    }

    /// Backward through the stem; the input gradient is not needed (the input is data).
    public func backwardStem(_ dy: Tensor, _ store: ParameterStore, cache: StemCache) {
        let pool = BufferPool.current
        var d = maxpool.backward(dy, cache: cache.pool)
        pool.replace(&d) { ReLU.backward($0, output: cache.activated) }
        pool.replace(&d) { bn1.backward($0, store, cache: cache.bn1) }
        pool.replace(&d) { conv1.backward($0, store, cache: cache.conv1, inputGradient: false) }
    }

    /// layerK → seK (→ spatial attention for K = 4); `stage` is 0…3.
    public func forwardStage(
        _ stage: Int, _ x: Tensor, _ store: ParameterStore, bn mode: BatchNorm2d.Mode, cache: inout StageCache
    ) -> Tensor {
        var y = x
        for (index, block) in layers[stage].enumerated() {
            y = block.forward(y, store, bn: mode, cache: &cache.blocks[index])
        }
        y = se[stage].forward(y, store, cache: &cache.se)
        if stage == 3 { y = spatialAttention.forward(y, store, cache: &cache.spatial) }
        return y
    }

    /// Each intermediate gradient goes back to this thread's pool once the next one is computed; `dy` is the caller's.
    public func backwardStage(_ stage: Int, _ dy: Tensor, _ store: ParameterStore, cache: StageCache) -> Tensor {
        let pool = BufferPool.current
        var d = dy
        if stage == 3 { pool.replace(&d) { spatialAttention.backward($0, store, cache: cache.spatial) } }
        pool.replace(&d) { se[stage].backward($0, store, cache: cache.se) }
        for (index, block) in layers[stage].enumerated().reversed() {
            pool.replace(&d) { block.backward($0, store, cache: cache.blocks[index]) }
        }
        return d
    }
}
