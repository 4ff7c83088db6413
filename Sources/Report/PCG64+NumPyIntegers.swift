// PCG64+NumPyIntegers: uniform integer draws that reproduce NumPy's `Generator.integers` stream (Lemire's method).
import AblateSupport

extension PCG64 {
    /// A uniform integer in `0..<bound` exactly as `numpy.random.Generator(PCG64).integers(0, bound)` draws it
    /// for `1 < bound ≤ 2^32`: Lemire's multiply-and-reject on 32-bit outputs (NumPy's
    /// `buffered_bounded_lemire_uint32`), so a script using NumPy with the same seed sees the same stream.
    @inline(__always)
    public mutating func lemireBelow(_ bound: UInt32) -> UInt32 {
        let bound64 = UInt64(bound)
        var product = UInt64(nextUInt32()) &* bound64
        var leftover = UInt32(truncatingIfNeeded: product)
        if leftover < bound {
            let threshold = (UInt32.max &- (bound &- 1)) % bound
            while leftover < threshold {
                product = UInt64(nextUInt32()) &* bound64
                leftover = UInt32(truncatingIfNeeded: product)
            }
        }
        return UInt32(truncatingIfNeeded: product >> 32)
    }
}
