// Pointwise: SIMD loops over float arrays, split into ranges over the compute pool; each element's arithmetic is the scalar's.

/// Building blocks of the elementwise layers. A loop handles 16 lanes at a time and a scalar tail, and every
/// lane performs the same IEEE operations in the same order as the scalar code would, so lanes and ranges change
/// speed, never results (`PointwiseTests` compares each loop with a plain scalar loop bit for bit).
public enum Pointwise {
    public typealias Lanes = SIMD16<Float>
    public static let laneCount = Lanes.scalarCount

    @inline(__always)
    public static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lanes {
        UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    public static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lanes.self)
    }

    /// A new array of `a.count` elements (from this thread's `BufferPool`), every one written by
    /// `loop(a, b, out, range)` over ranges of the indices (split over `ComputePool.shared` when large). `b` must
    /// have at least `a.count` elements.
    public static func map(
        _ a: [Float], _ b: [Float],
        _ loop: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    ) -> [Float] {
        precondition(b.count >= a.count, "pointwise operands of \(a.count) and \(b.count) elements")
        var output = BufferPool.current.take(a.count)
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                output.withUnsafeMutableBufferPointer { ob in
                    guard let ap = ab.baseAddress, let bp = bb.baseAddress, let op = ob.baseAddress else { return }
                    forRanges(a.count) { range in loop(ap, bp, op, range) }
                }
            }
        }
        return output
    }

    /// `a + b`, element by element.
    public static func sum(_ a: [Float], _ b: [Float]) -> [Float] {
        map(a, b) { x, y, out, range in
            var i = range.lowerBound
            while i + laneCount <= range.upperBound {
                store(load(x, i) + load(y, i), out, i)
                i += laneCount
            }
            while i < range.upperBound {
                out[i] = x[i] + y[i]
                i += 1
            }
        }
    }

    /// `max(a + b, 0)`, element by element (a residual sum through ReLU).
    public static func sumReLU(_ a: [Float], _ b: [Float]) -> [Float] {
        map(a, b) { x, y, out, range in
            var i = range.lowerBound
            while i + laneCount <= range.upperBound {
                var s = load(x, i) + load(y, i)
                s.replace(with: 0, where: s .<= 0)
                store(s, out, i)
                i += laneCount
            }
            while i < range.upperBound {
                out[i] = max(x[i] + y[i], 0)
                i += 1
            }
        }
    }

    /// `a ⊙ b`, element by element.
    public static func product(_ a: [Float], _ b: [Float]) -> [Float] {
        map(a, b) { x, y, out, range in
            var i = range.lowerBound
            while i + laneCount <= range.upperBound {
                store(load(x, i) * load(y, i), out, i)
                i += laneCount
            }
            while i < range.upperBound {
                out[i] = x[i] * y[i]
                i += 1
            }
        }
    }

    /// `body` over ranges of `0..<count`, on the pool's threads when `count` reaches `ComputePool.parallelMinimum`.
    @inline(__always)
    public static func forRanges(_ count: Int, _ body: (Range<Int>) -> Void) {
        ComputePool.shared.forRanges(count, parallel: count >= ComputePool.parallelMinimum, body)
    }
}

extension Tensor {
    /// A tensor whose elements `fill` writes, without zero-filling them first; `fill` must write every element.
    /// The buffer comes from this thread's `BufferPool`.
    public init(shape: [Int], writingEvery fill: (UnsafeMutablePointer<Float>) -> Void) {
        var data = BufferPool.current.take(shape.reduce(1, *))
        data.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { fill(base) }
        }
        self.init(shape: shape, data: data)
    }
}
