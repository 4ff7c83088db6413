// NumPyRandom: bit-exact reproduction of NumPy's SeedSequence, PCG64 and Generator.permutation.
//
// The research pipeline split its data with `numpy.random.default_rng(seed).permutation(N)`; Ablate
// reproduces that split exactly. Constants and algorithms follow NumPy's documented implementation
// (SeedSequence: O'Neill's seed_seq hash mixing; PCG64: the 128-bit LCG with the XSL-RR output;
// `Generator.shuffle`: Fisher–Yates from the back with bounded integers by masked rejection).

/// NumPy's `SeedSequence` (pool size 4), reduced to what `default_rng(int)` needs.
public struct SeedSequence: Sendable {
    private static let initA: UInt32 = 0x43b0_d7e5
    private static let multA: UInt32 = 0x931e_8875
    private static let initB: UInt32 = 0x8b51_f9dd
    private static let multB: UInt32 = 0x58f3_8ded
    private static let mixMultL: UInt32 = 0xca01_f9dd
    private static let mixMultR: UInt32 = 0x4973_f715
    private static let poolSize = 4

    /// The mixed entropy pool.
    public let pool: [UInt32]

    /// Seeds from a non-negative integer, given as little-endian 32-bit words (NumPy's `_int_to_uint32_array`).
    public init(entropyWords: [UInt32]) {
        let entropy = entropyWords.isEmpty ? [0] : entropyWords
        var hashConst = Self.initA
        func hashmix(_ input: UInt32) -> UInt32 {
            var value = input ^ hashConst
            hashConst = hashConst &* Self.multA
            value = value &* hashConst
            return value ^ (value >> 16)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let result = Self.mixMultL &* x &- Self.mixMultR &* y
            return result ^ (result >> 16)
        }
        var mixer = [UInt32](repeating: 0, count: Self.poolSize)
        for i in 0..<Self.poolSize {
            mixer[i] = hashmix(i < entropy.count ? entropy[i] : 0)
        }
        for source in 0..<Self.poolSize {
            for destination in 0..<Self.poolSize where source != destination {
                mixer[destination] = mix(mixer[destination], hashmix(mixer[source]))
            }
        }
        for source in Self.poolSize..<max(Self.poolSize, entropy.count) {
            for destination in 0..<Self.poolSize {
                mixer[destination] = mix(mixer[destination], hashmix(entropy[source]))
            }
        }
        pool = mixer
    }

    /// Seeds from a 64-bit integer, as `SeedSequence(seed)` does for `0 <= seed < 2**64`.
    public init(_ seed: UInt64) {
        let low = UInt32(truncatingIfNeeded: seed)
        let high = UInt32(truncatingIfNeeded: seed >> 32)
        self.init(entropyWords: high == 0 ? [low] : [low, high])
    }

    /// `generate_state(n, np.uint32)`.
    public func generateState32(_ count: Int) -> [UInt32] {
        var hashConst = Self.initB
        return (0..<count).map { index in
            var value = pool[index % Self.poolSize] ^ hashConst
            hashConst = hashConst &* Self.multB
            value = value &* hashConst
            return value ^ (value >> 16)
        }
    }

    /// `generate_state(n, np.uint64)`: pairs of 32-bit words, low word first.
    public func generateState64(_ count: Int) -> [UInt64] {
        let words = generateState32(2 * count)
        return (0..<count).map { UInt64(words[2 * $0]) | (UInt64(words[2 * $0 + 1]) << 32) }
    }
}

/// NumPy's PCG64 bit generator (PCG XSL-RR 128/64), including its 32-bit output buffering.
public struct PCG64: RandomNumberGenerator, Sendable {
    private static let multiplier = UInt128(high: 2_549_297_995_355_413_924, low: 4_865_540_595_714_422_341)

    /// The 128-bit LCG state.
    public private(set) var state: UInt128
    /// The stream increment (always odd).
    public let increment: UInt128
    /// Buffered upper half of the last 64-bit output, used by the next 32-bit draw.
    private var bufferedUInt32: UInt32? = nil

    /// Seeds exactly as `numpy.random.PCG64(seed)`.
    public init(seed: UInt64) {
        self.init(seedSequence: SeedSequence(seed))
    }

    /// Seeds from a SeedSequence as NumPy does (`generate_state(4, uint64)` → state, stream).
    public init(seedSequence: SeedSequence) {
        let words = seedSequence.generateState64(4)
        self.init(
            initialState: UInt128(high: words[0], low: words[1]),
            sequence: UInt128(high: words[2], low: words[3]))
    }

    /// PCG's `srandom_r(initstate, initseq)`.
    public init(initialState: UInt128, sequence: UInt128) {
        increment = (sequence << 1) | 1
        state = 0
        step()
        state = state &+ initialState
        step()
    }

    private mutating func step() {
        state = state &* Self.multiplier &+ increment
    }

    /// The complete generator state, for checkpoints.
    public struct State: Codable, Sendable, Equatable {
        public var stateHigh: UInt64
        public var stateLow: UInt64
        public var incrementHigh: UInt64
        public var incrementLow: UInt64
        public var bufferedUInt32: UInt32?
    }

    /// A snapshot of the state; `init(restoring:)` continues exactly where this generator is.
    public var savedState: State {
        State(
            stateHigh: UInt64(truncatingIfNeeded: state >> 64), stateLow: UInt64(truncatingIfNeeded: state),
            incrementHigh: UInt64(truncatingIfNeeded: increment >> 64),
            incrementLow: UInt64(truncatingIfNeeded: increment),
            bufferedUInt32: bufferedUInt32)
    }

    /// Restores a generator from a snapshot.
    public init(restoring saved: State) {
        state = UInt128(high: saved.stateHigh, low: saved.stateLow)
        increment = UInt128(high: saved.incrementHigh, low: saved.incrementLow)
        bufferedUInt32 = saved.bufferedUInt32
    }

    /// A uniform integer in `0..<bound` (masked rejection, no modulo bias).
    public mutating func bounded(_ bound: Int) -> Int {
        precondition(bound > 0, "bounded: bound must be positive")
        let max = UInt64(bound - 1)
        let mask = smallestMask(covering: max)
        while true {
            let value = next() & mask
            if value <= max { return Int(value) }
        }
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// The next 64-bit output (`random_raw`).
    public mutating func next() -> UInt64 {
        step()
        let folded = UInt64(truncatingIfNeeded: state >> 64) ^ UInt64(truncatingIfNeeded: state)
        let rotation = UInt64(truncatingIfNeeded: state >> 122)
        return (folded >> rotation) | (folded << ((64 &- rotation) & 63))
    }

    /// The next 32-bit output: the low half of a fresh 64-bit draw, then its high half.
    public mutating func nextUInt32() -> UInt32 {
        if let buffered = bufferedUInt32 {
            bufferedUInt32 = nil
            return buffered
        }
        let value = next()
        bufferedUInt32 = UInt32(truncatingIfNeeded: value >> 32)
        return UInt32(truncatingIfNeeded: value)
    }
}

/// The smallest all-ones bit mask that is ≥ `value`.
@inline(__always)
func smallestMask(covering value: UInt64) -> UInt64 {
    var mask = value
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    mask |= mask >> 32
    return mask
}

extension UInt128 {
    public init(high: UInt64, low: UInt64) {
        self = (UInt128(high) << 64) | UInt128(low)
    }
}

/// The parts of `numpy.random.Generator` Ablate needs.
public struct NumPyGenerator: Sendable {
    public var bitGenerator: PCG64

    /// `numpy.random.default_rng(seed)`.
    public init(seed: UInt64) {
        bitGenerator = PCG64(seed: seed)
    }

    /// A uniform integer in `0...max` by masked rejection (NumPy's `random_interval`).
    public mutating func interval(_ max: UInt64) -> UInt64 {
        if max == 0 { return 0 }
        let mask = smallestMask(covering: max)
        if max <= UInt64(UInt32.max) {
            while true {
                let value = UInt64(bitGenerator.nextUInt32()) & mask
                if value <= max { return value }
            }
        }
        while true {
            let value = bitGenerator.next() & mask
            if value <= max { return value }
        }
    }

    /// `Generator.shuffle` of a 1-D array: Fisher–Yates from the last element down.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, through: 1, by: -1) {
            let j = Int(interval(UInt64(i)))
            values.swapAt(i, j)
        }
    }

    /// `Generator.permutation(n)`: a shuffled `arange(n)`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        shuffle(&values)
        return values
    }
}
