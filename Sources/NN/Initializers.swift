// Initializers: PyTorch's weight initialisations (Kaiming normal/uniform, constants) from a seeded PCG64.
import AblateSupport
import Foundation

/// A seeded source of the random numbers weight initialisation needs.
public struct InitRandom {
    public var generator: PCG64

    public init(seed: UInt64) {
        generator = PCG64(seed: seed)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(generator.next() >> 11) * (1.0 / Double(UInt64(1) << 53))
    }

    /// Standard normal by Box–Muller.
    public mutating func normal() -> Double {
        let u1 = max(uniform(), Double.leastNonzeroMagnitude)
        let u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// PyTorch's fan computations and initialisers (torch.nn.init), applied to a store's tensors.
public enum Initializers {
    /// `fan_in`, `fan_out` of a weight of `shape` (`[out, in/groups, kh, kw]` or `[out, in]`).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// `kaiming_normal_(mode, nonlinearity='relu')`: N(0, 2 / fan) .
    public static func kaimingNormal(
        _ store: ParameterStore, _ ref: ParameterRef, fanOut: Bool, scale: Float = 1, random: inout InitRandom
    ) {
        let shape = store.entries[ref.index].shape
        let (fanIn, fanOutCount) = fans(shape)
        let std = (2.0 / Double(fanOut ? fanOutCount : fanIn)).squareRoot()
        let p = store.values(ref)
        for i in 0..<ref.count { p[i] = Float(std * random.normal()) * scale }
        store.touch(ref)
    }

    /// PyTorch's default for Linear and Conv weights: `kaiming_uniform_(a=√5)` = U(−1/√fan_in, 1/√fan_in).
    public static func defaultWeight(_ store: ParameterStore, _ ref: ParameterRef, random: inout InitRandom) {
        let bound = 1 / Double(fans(store.entries[ref.index].shape).fanIn).squareRoot()
        uniform(store, ref, bound: bound, random: &random)
    }

    /// PyTorch's default bias: U(−1/√fan_in, 1/√fan_in) with the weight's fan_in.
    public static func defaultBias(_ store: ParameterStore, _ ref: ParameterRef, fanIn: Int, random: inout InitRandom) {
        uniform(store, ref, bound: 1 / Double(fanIn).squareRoot(), random: &random)
    }

    /// U(−bound, bound).
    public static func uniform(_ store: ParameterStore, _ ref: ParameterRef, bound: Double, random: inout InitRandom) {
        let p = store.values(ref)
        for i in 0..<ref.count { p[i] = Float((2 * random.uniform() - 1) * bound) }
        store.touch(ref)
    }

    /// A constant.
    public static func fill(_ store: ParameterStore, _ ref: ParameterRef, _ value: Float) {
        store.values(ref).update(repeating: value, count: ref.count)
        store.touch(ref)
    }
}
