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

    public init(store: ParameterStore, groups: [Group], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
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
        let correction1 = Float(1 - Foundation.pow(beta1, Double(step)))
        let correction2Sqrt = Float((1 - Foundation.pow(beta2, Double(step))).squareRoot())
        let b1 = Float(beta1)
        let b2 = Float(beta2)
        let epsilon = Float(eps)
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                for (entryIndex, groupIndex) in members {
                    let entry = store.entries[entryIndex]
                    let ref = ParameterRef(index: entryIndex, offset: entry.offset, count: entry.count)
                    store.touch(ref)
                    let p = store.values(ref)
                    let g = store.gradients(ref)
                    let lr = Float(groups[groupIndex].learningRate)
                    let decay = 1 - lr * Float(groups[groupIndex].weightDecay)
                    let stepSize = lr / correction1
                    for i in 0..<entry.count {
                        let j = entry.offset + i
                        p[i] *= decay
                        m[j] = b1 * m[j] + (1 - b1) * g[i]
                        v[j] = b2 * v[j] + (1 - b2) * g[i] * g[i]
                        let denominator = v[j].squareRoot() / correction2Sqrt + epsilon
                        p[i] -= stepSize * m[j] / denominator
                    }
                }
            }
        }
    }
}
