// AdamW: Adam with decoupled weight decay and PyTorch's semantics, over parameter groups of the flat store.
import Foundation

/// `torch.optim.AdamW` (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) as PyTorch
/// implements it (single-tensor path): `p ← p·(1 − lr·λ)`; `m ← β₁m + (1 − β₁)g`; `v ← β₂v + (1 − β₂)g²`;
/// `p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`. Each group has its own learning rate (the scheduler
/// changes it) and weight decay; `step` counts per optimizer, as every parameter steps together here.
public final class AdamW {
    /// Parameters that share hyper-parameters.
    public struct Group: Sendable, Equatable, Codable {
        public var name: String
        /// Prefix of the tensor names in the group (`adapters.`, `head.`, `backbone.`).
        public var prefix: String
        public var learningRate: Double
        public var weightDecay: Double

        public init(name: String, prefix: String, learningRate: Double, weightDecay: Double = 0.01) {
            self.name = name
            self.prefix = prefix
            self.learningRate = learningRate
            self.weightDecay = weightDecay
        }
    }

    public var groups: [Group]
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    /// Steps taken.
    public var step: Int = 0
    /// First and second moments, one entry per trainable tensor (by store index), in the store's layout.
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    /// (store entry index, group index) of every trainable tensor.
    public let members: [(entry: Int, group: Int)]
    /// The step's per-tensor slices, kept so that later steps refill the same array.
    private var slices: [Slice] = []

    public init(store: ParameterStore, groups: [Group], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8)
    {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        var members: [(Int, Int)] = []
        for (index, entry) in store.entries.enumerated() where entry.trainable {
            guard let group = groups.firstIndex(where: { entry.name.hasPrefix($0.prefix) }) else {
                preconditionFailure("trainable tensor \(entry.name) is in no optimizer group")
            }
            members.append((index, group))
        }
        self.members = members
        firstMoment = [Float](repeating: 0, count: store.totalCount)
        secondMoment = [Float](repeating: 0, count: store.totalCount)
    }

    /// One update of every trainable tensor from the store's gradients.
    public func update(_ store: ParameterStore) {
        step += 1
        let constants = Constants(
            correction1: Float(1 - Foundation.pow(beta1, Double(step))),
            correction2Sqrt: Float((1 - Foundation.pow(beta2, Double(step))).squareRoot()),
            b1: Float(beta1), b2: Float(beta2), epsilon: Float(eps))
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                guard let m = mBuffer.baseAddress, let v = vBuffer.baseAddress else { return }
                var slices: [Slice] = []
                swap(&slices, &self.slices)
                defer { swap(&slices, &self.slices) }
                slices.removeAll(keepingCapacity: true)
                for (entryIndex, groupIndex) in members {
                    let entry = store.entries[entryIndex]
                    let ref = ParameterRef(index: entryIndex, offset: entry.offset, count: entry.count)
                    store.touch(ref)
                    let lr = Float(groups[groupIndex].learningRate)
                    slices.append(
                        Slice(
                            count: entry.count, p: store.values(ref), g: store.gradients(ref), m: m + entry.offset,
                            v: v + entry.offset,
                            decay: 1 - lr * Float(groups[groupIndex].weightDecay), stepSize: lr / constants.correction1)
                    )
                }
                // Every element's update is independent of the others, so the trainable elements, taken tensor
                // after tensor, are split into one range per thread.
                let total = slices.reduce(0) { $0 + $1.count }
                ComputePool.shared.forRanges(total, parallel: total >= ComputePool.parallelMinimum) { range in
                    var start = 0
                    for t in slices {
                        let low = max(range.lowerBound, start) - start,
                            high = min(range.upperBound, start + t.count) - start
                        if low < high {
                            Self.update(
                                count: high - low, p: t.p + low, g: t.g + low, m: t.m + low, v: t.v + low,
                                decay: t.decay, stepSize: t.stepSize, constants)
                        }
                        start += t.count
                    }
                }
            }
        }
    }

    /// One trainable tensor's buffers and step scalars.
    private struct Slice {
        let count: Int
        let p, g, m, v: UnsafeMutablePointer<Float>
        let decay, stepSize: Float
    }

    /// The step's scalars shared by every tensor.
    struct Constants {
        let correction1, correction2Sqrt, b1, b2, epsilon: Float
    }

    /// One tensor's update, 8 lanes at a time with a scalar tail; every element goes through the same IEEE
    /// operations in the same order either way, so the lanes change speed, not results.
    ///
    /// One deliberate departure from PyTorch: a moment below the smallest normal float (1.2·10⁻³⁸) is set to
    /// zero. A parameter whose gradient stays zero (a dead ReLU unit's weights) has its first moment decay by β₁
    /// into the subnormal range, where round-to-nearest keeps it at the smallest subnormal forever, and every
    /// later step then takes the CPU's slow subnormal path (measured: AdamW grew from 3 % to 9 % of a research
    /// run's time). Such a moment moves its parameter by less than 10⁻³⁶, far below the parameter's own
    /// rounding, so the flush changes the moments' bits, not the model.
    static func update(
        count: Int, p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, decay: Float, stepSize: Float, _ c: Constants
    ) {
        typealias Lanes = SIMD8<Float>
        let width = Lanes.scalarCount
        var i = 0
        while i + width <= count {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: Lanes.self)
            var pi = UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
            var mi = UnsafeRawPointer(m + i).loadUnaligned(as: Lanes.self)
            var vi = UnsafeRawPointer(v + i).loadUnaligned(as: Lanes.self)
            pi *= decay
            mi = c.b1 * mi + (1 - c.b1) * gi
            vi = c.b2 * vi + (1 - c.b2) * gi * gi
            mi.replace(with: 0, where: (mi .< Float.leastNormalMagnitude) .& (mi .> -Float.leastNormalMagnitude))
            vi.replace(with: 0, where: vi .< Float.leastNormalMagnitude)
            let denominator = vi.squareRoot() / c.correction2Sqrt + c.epsilon
            pi -= stepSize * mi / denominator
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: Lanes.self)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: Lanes.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: Lanes.self)
            i += width
        }
        while i < count {
            p[i] *= decay
            m[i] = c.b1 * m[i] + (1 - c.b1) * g[i]
            v[i] = c.b2 * v[i] + (1 - c.b2) * g[i] * g[i]
            if abs(m[i]) < Float.leastNormalMagnitude { m[i] = 0 }
            if v[i] < Float.leastNormalMagnitude { v[i] = 0 }
            let denominator = v[i].squareRoot() / c.correction2Sqrt + c.epsilon
            p[i] -= stepSize * m[i] / denominator
            i += 1
        }
    }
}
