// SyntheticGenerator: synthetic 10-bit luma blocks whose partition labels follow from their content.
import AblateSupport
import Dispatch

/// Generates blocks shaped like the research data set (16×16, 10-bit, partition ids 0–7, QP per block).
///
/// Each block is drawn as a scene made for one partition (flat, a horizontal or vertical edge, an edge in
/// one half for the A/B kinds, four distinct quadrants with busy texture for SPLIT) with a random
/// amplitude, a gentle gradient and noise; then its label is decided from the stored samples by
/// `RDPartitionModel` at the block's QP, and with probability `labelNoise` the encoder's second choice is
/// recorded instead. Weak edges therefore end up NONE, QP moves the decision, and the label is not a
/// trivial function of the pixels (QP is not shown to the model). The intended-scene mix is calibrated so
/// that the final label shares match the research data (`targetShares`).
///
/// Output depends only on (count, seed, stream): blocks are generated in fixed chunks with their own
/// PCG64 stream, so the thread count does not change a single bit.
public struct SyntheticGenerator: Sendable {
    public var blockSize: Int
    public var bitDepth: Int
    /// Probability that the recorded label is the runner-up partition.
    public var labelNoise: Float

    /// Label shares of the research data set (block 16, all 453,961 rows), partition ids 0–7.
    public static let targetShares: [Double] = [
        0.579576, 0.089924, 0.106443, 0.065874, 0.038644, 0.039642, 0.040704, 0.039193,
    ]

    /// Shares of intended scenes, calibrated (see docs/dataset-format.md) so the decided labels hit `targetShares`.
    public static let calibratedSceneShares: [Double] = [
        0.5890, 0.0623, 0.0837, 0.0820, 0.0443, 0.0467, 0.0476, 0.0444,
    ]

    /// Shares of intended scenes per partition id 0–7 (must sum to 1).
    public var sceneShares: [Double] = calibratedSceneShares

    static let chunkSize = 4096

    public init(blockSize: Int = 16, bitDepth: Int = 10, labelNoise: Float = 0.08) {
        precondition(blockSize >= 2 && blockSize % 2 == 0, "block size must be even")
        self.blockSize = blockSize
        self.bitDepth = bitDepth
        self.labelNoise = labelNoise
    }

    /// Generates `count` blocks from `(seed, stream)`. `progress` is called with each finished chunk's row count,
    /// from the generating threads (any order; the blocks do not depend on it).
    public func generate(
        count: Int, seed: UInt64, stream: UInt64, progress: (@Sendable (Int) -> Void)? = nil
    ) -> DatasetSplit {
        let area = blockSize * blockSize
        var blocks = [UInt16](repeating: 0, count: count * area)
        var labels = [UInt8](repeating: 0, count: count)
        var qps = [UInt8](repeating: 0, count: count)
        let chunks = (count + Self.chunkSize - 1) / Self.chunkSize
        blocks.withUnsafeMutableBufferPointer { blockBuffer in
            labels.withUnsafeMutableBufferPointer { labelBuffer in
                qps.withUnsafeMutableBufferPointer { qpBuffer in
                    let output = ChunkOutput(blocks: blockBuffer, labels: labelBuffer, qps: qpBuffer)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let rows = (chunk * Self.chunkSize)..<min(count, (chunk + 1) * Self.chunkSize)
                        var rng = PCG64(
                            initialState: UInt128(high: seed, low: stream),
                            sequence: UInt128(UInt64(chunk)))
                        for row in rows {
                            let (label, qp) = generateBlock(
                                into: output.blocks.baseAddress.map { $0 + row * area }, rng: &rng)
                            output.labels[row] = label
                            output.qps[row] = qp
                        }
                        progress?(rows.count)
                    }
                }
            }
        }
        return DatasetSplit(blocks: blocks, labels: labels, qp: qps)
    }

    /// A train and a validation split from one seed (independent streams), as a dataset; `progress` as in
    /// `generate`, over both splits.
    public func dataset(train: Int, val: Int, seed: UInt64, progress: (@Sendable (Int) -> Void)? = nil) -> Dataset {
        let attributes = DatasetAttributes(
            blockSize: blockSize, bitDepth: bitDepth,
            source: "synthetic (ablate data synth, rate-distortion labels, label noise \(labelNoise))",
            splitSeed: Int64(bitPattern: seed),
            valFraction: train + val == 0 ? 0 : Double(val) / Double(train + val))
        return Dataset(
            attributes: attributes,
            train: generate(count: train, seed: seed, stream: 1, progress: progress),
            val: generate(count: val, seed: seed, stream: 2, progress: progress))
    }

    // MARK: - One block

    /// Buffers shared by the chunk workers; each worker writes disjoint rows.
    private struct ChunkOutput: @unchecked Sendable {
        let blocks: UnsafeMutableBufferPointer<UInt16>
        let labels: UnsafeMutableBufferPointer<UInt8>
        let qps: UnsafeMutableBufferPointer<UInt8>
    }

    @inline(__always)
    private static func unit(_ rng: inout PCG64) -> Float {
        Float(rng.next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// An approximately standard-normal value from four 16-bit uniforms (Irwin–Hall), integer-exact.
    @inline(__always)
    private static func normal(_ rng: inout PCG64) -> Float {
        let r = rng.next()
        let sum = Int(r & 0xffff) + Int((r >> 16) & 0xffff) + Int((r >> 32) & 0xffff) + Int(r >> 48)
        return Float(sum - 2 * 65535) * (1.0 / 37_837.0)
    }

    private func pickScene(_ rng: inout PCG64) -> Int {
        let u = Double(rng.next() >> 11) * (1.0 / Double(1 << 53))
        var cumulative = 0.0
        for (mode, share) in sceneShares.enumerated() {
            cumulative += share
            if u < cumulative { return mode }
        }
        return 0
    }

    /// Draws one block into `pixels` and returns its decided label and QP.
    private func generateBlock(into pixels: UnsafeMutablePointer<UInt16>?, rng: inout PCG64) -> (UInt8, UInt8) {
        guard let pixels else { return (0, 0) }
        let b = blockSize
        let half = b / 2
        let maxValue = Float((1 << bitDepth) - 1)
        let scale = maxValue / 1023  // the scene parameters are set for 10-bit samples
        let scene = pickScene(&rng)
        let qp = UInt8(40 + 8 * Int(rng.next() % 16))
        let step = RDPartitionModel.quantiserStep(qp: qp) * scale
        let threshold = 2 * step  // the edge amplitude at which one more region pays for itself

        // Region levels: a ladder of evenly spaced levels (one edge amplitude apart, jittered), shuffled over
        // the scene's regions, so every region differs from the others.
        let groups = RDPartitionModel.regions[scene]
        let amplitude = threshold * (0.55 + 2.2 * Self.unit(&rng)) * (groups.count > 2 ? 1.4 : 1)
        var ladder: [Float] = [0, 1, 2, 3]
        for i in stride(from: groups.count - 1, through: 1, by: -1) {
            ladder.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        var quadrantOffset = SIMD4<Float>(repeating: 0)
        for (index, group) in groups.enumerated() {
            let level = amplitude * (ladder[index] + 0.3 * (Self.unit(&rng) - 0.5))
            for quadrant in group { quadrantOffset[quadrant] = level }
        }
        quadrantOffset -= quadrantOffset.sum() / 4

        let level = (150 + 720 * Self.unit(&rng)) * scale
        let gradientX = (Self.unit(&rng) - 0.5) * 3 * scale
        let gradientY = (Self.unit(&rng) - 0.5) * 3 * scale
        let sigma =
            (scene == Int(Partition.split.rawValue) ? 4 + 26 * Self.unit(&rng) : 1 + 11 * Self.unit(&rng)) * scale
        let centre = Float(b - 1) / 2

        var sums = SIMD4<Float>(repeating: 0)
        var squares = SIMD4<Float>(repeating: 0)
        for y in 0..<b {
            let dy = (Float(y) - centre) * gradientY
            for x in 0..<b {
                let quadrant = (y < half ? 0 : 2) + (x < half ? 0 : 1)
                var value = level + quadrantOffset[quadrant] + dy + (Float(x) - centre) * gradientX
                value += sigma * Self.normal(&rng)
                let sample = min(max(value.rounded(), 0), maxValue)
                pixels[y * b + x] = UInt16(sample)
                sums[quadrant] += sample
                squares[quadrant] += sample * sample
            }
        }
        let area = Float(half * half)
        let lambda = RDPartitionModel.lambda(qp: qp, blockArea: b * b) * scale * scale
        let decision = RDPartitionModel.decide(sums: sums, squares: squares, quadrantArea: area, lambda: lambda)
        let noisy = Self.unit(&rng) < labelNoise
        return (noisy ? decision.runnerUp : decision.best, qp)
    }
}
