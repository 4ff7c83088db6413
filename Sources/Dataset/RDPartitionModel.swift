// RDPartitionModel: a rate–distortion partition decision over a block's quadrant statistics.

/// Chooses a block's partition the way an encoder's rate–distortion search would, in a simple model:
/// each candidate partition predicts every one of its regions by the region's mean (DC prediction), its
/// distortion is the summed squared error, and its rate is a per-region cost that grows with the
/// quantiser step. `J = D + λ(qp) · (regions − 1) + bias(mode)`; the smallest `J` wins.
///
/// Every AV1 partition of a square block except the 1:4 ones is a union of the four quadrants
/// (TL=0, TR=1, BL=2, BR=3), so the model needs only each quadrant's sum and sum of squares.
public struct RDPartitionModel: Sendable {
    /// Quadrant groups of each candidate partition, indexed by partition id 0–7.
    static let regions: [[[Int]]] = [
        [[0, 1, 2, 3]],  // NONE
        [[0, 1], [2, 3]],  // HORZ
        [[0, 2], [1, 3]],  // VERT
        [[0], [1], [2], [3]],  // SPLIT
        [[0], [1], [2, 3]],  // HORZ_A: top half split
        [[0, 1], [2], [3]],  // HORZ_B: bottom half split
        [[0], [2], [1, 3]],  // VERT_A: left half split
        [[0, 2], [1], [3]],  // VERT_B: right half split
    ]

    /// Extra signalling cost of each mode, in units of λ (the rarer modes cost more to signal).
    static let modeBias: [Float] = [0, 0.05, 0.05, 0.15, 0.25, 0.25, 0.25, 0.25]

    /// The quantiser step (in sample units of a 10-bit signal) for an AV1-style qindex 0–255:
    /// `8 · 2^(qp/64)`, doubling every 64 qindex steps.
    public static func quantiserStep(qp: UInt8) -> Float {
        quantiserSteps[Int(qp)]
    }

    /// `8 · 2^(q/64)` for q = 0…255, built from square roots and products only (exact IEEE operations, no
    /// libm), so synthetic data is bit-identical on every machine.
    static let quantiserSteps: [Float] = {
        var root: Double = 2
        for _ in 0..<6 { root = root.squareRoot() }  // 2^(1/64)
        var value: Double = 8
        return (0...255).map { _ in
            defer { value *= root }
            return Float(value)
        }
    }()

    /// λ: the squared error one extra region must remove to pay for itself.
    public static func lambda(qp: UInt8, blockArea: Int) -> Float {
        let step = quantiserStep(qp: qp)
        return Float(blockArea) * step * step
    }

    /// The cost `J` of partition `mode` (0–7) given quadrant sums and sums of squares.
    @inline(__always)
    public static func cost(mode: Int, sums: SIMD4<Float>, squares: SIMD4<Float>, quadrantArea: Float, lambda: Float)
        -> Float
    {
        var distortion: Float = 0
        let groups = regions[mode]
        for group in groups {
            var s: Float = 0
            var q: Float = 0
            for quadrant in group {
                s += sums[quadrant]
                q += squares[quadrant]
            }
            distortion += q - s * s / (quadrantArea * Float(group.count))
        }
        return distortion + lambda * (Float(groups.count - 1) + modeBias[mode])
    }

    /// The best and second-best partition ids.
    public static func decide(sums: SIMD4<Float>, squares: SIMD4<Float>, quadrantArea: Float, lambda: Float) -> (
        best: UInt8, runnerUp: UInt8
    ) {
        var best = 0
        var bestCost = Float.infinity
        var second = 1
        var secondCost = Float.infinity
        for mode in 0..<regions.count {
            let j = cost(mode: mode, sums: sums, squares: squares, quadrantArea: quadrantArea, lambda: lambda)
            if j < bestCost {
                second = best
                secondCost = bestCost
                best = mode
                bestCost = j
            } else if j < secondCost {
                second = mode
                secondCost = j
            }
        }
        return (UInt8(best), UInt8(second))
    }
}
