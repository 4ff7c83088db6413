// Dropout: inverted dropout (keep with probability 1 − p, scale by 1 / (1 − p)) from a seeded generator.
import AblateSupport

/// `torch.nn.Dropout(p)` in train mode; identity in eval mode. The mask comes from the caller's PCG64 so
/// a run's randomness is part of its checkpointed state.
public struct Dropout: Sendable {
    public let probability: Float

    public struct Cache {
        public var mask: [Float] = []
        public init() {}

        /// Hands the mask to `pool` (the start of the next step).
        public mutating func recycle(into pool: BufferPool) { pool.recycle(&mask) }
    }

    public init(probability: Float) {
        precondition((0..<1).contains(probability), "dropout probability must be in [0, 1)")
        self.probability = probability
    }

    public func forward(_ x: Tensor, training: Bool, random: inout PCG64, cache: inout Cache) -> Tensor {
        guard training, probability > 0 else {
            cache.mask = []
            return x
        }
        let scale = 1 / (1 - probability)
        let threshold = UInt32((Double(probability) * 4_294_967_296).rounded(.down))
        var mask = BufferPool.current.take(x.count)
        for i in 0..<mask.count { mask[i] = random.nextUInt32() >= threshold ? scale : 0 }
        cache.mask = mask
        return Tensor(shape: x.shape, data: Pointwise.product(x.data, cache.mask))
    }

    public func backward(_ dy: Tensor, cache: Cache) -> Tensor {
        cache.mask.isEmpty ? dy : Tensor(shape: dy.shape, data: Pointwise.product(dy.data, cache.mask))
    }
}
