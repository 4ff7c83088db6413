// StageData: one split's rows of one stage as normalised model inputs and labels, and the epoch sampler.
import AblateSupport
import DatasetKit
import NN
import RunSpec

/// The rows of a split that belong to a stage: inputs `value / (2^bit_depth − 1)` as Float (layout N×1×B×B)
/// and the stage's labels.
public struct StageData: Sendable {
    public let inputs: [Float]
    /// Shape of one row of `inputs`: `[1, B, B]` for blocks, the prefix's output shape for cached features.
    public let rowShape: [Int]
    public let labels: [Int]
    public let blockSize: Int
    public let classes: Int
    /// Rows of the dataset split each stage row came from.
    public let rows: [Int]

    public var count: Int { labels.count }

    /// Rows per class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// Loads `split` of `file` for `stage`, keeping the first `maxRows` stage rows when given.
    public static func load(_ file: DatasetFile, split: String, stage: Stage, maxRows: Int? = nil) throws -> StageData {
        let ids = try file.checkedLabels(split)
        var (rows, labels) = stage.select(partitionIDs: ids)
        if let maxRows, rows.count > maxRows {
            rows = Array(rows.prefix(maxRows))
            labels = Array(labels.prefix(maxRows))
        }
        guard !rows.isEmpty else {
            throw TrainingError.badData("\(file.path): the \(split) split has no rows for stage \(stage.rawValue)")
        }
        let b = file.attributes.blockSize
        let area = b * b
        let scale = 1 / Float((1 << file.attributes.bitDepth) - 1)
        let blocks = try file.blocks(split, rows: 0..<(file.rowCounts[split] ?? 0))
        var inputs = [Float](repeating: 0, count: rows.count * area)
        for (index, row) in rows.enumerated() {
            for i in 0..<area { inputs[index * area + i] = Float(blocks[row * area + i]) * scale }
        }
        return StageData(inputs: inputs, labels: labels, blockSize: b, classes: stage.classCount, rows: rows)
    }

    public init(inputs: [Float], labels: [Int], blockSize: Int, classes: Int, rows: [Int], rowShape: [Int]? = nil) {
        self.inputs = inputs
        self.rowShape = rowShape ?? [1, blockSize, blockSize]
        self.labels = labels
        self.blockSize = blockSize
        self.classes = classes
        self.rows = rows
    }

    /// The same rows with other inputs (e.g. cached prefix features of shape `rowShape` per row).
    public func replacingInputs(_ inputs: [Float], rowShape: [Int]) -> StageData {
        StageData(
            inputs: inputs, labels: labels, blockSize: blockSize, classes: classes, rows: rows, rowShape: rowShape)
    }

    /// The batch of `indices` as an input tensor `[n] + rowShape` and labels.
    public func batch(_ indices: ArraySlice<Int>) -> (Tensor, [Int]) {
        var labels: [Int] = []
        let x = batch(indices, labels: &labels)
        return (x, labels)
    }

    /// The batch of `indices` as an input tensor `[n] + rowShape` (its buffer from this thread's `BufferPool`);
    /// `labels` is replaced by the batch's labels, reusing its capacity.
    public func batch(_ indices: ArraySlice<Int>, labels: inout [Int]) -> Tensor {
        let area = rowShape.reduce(1, *)
        labels.removeAll(keepingCapacity: true)
        // Every row is copied in full.
        let x = Tensor(shape: [indices.count] + rowShape) { target in
            inputs.withUnsafeBufferPointer { source in
                guard let sp = source.baseAddress else { return }
                for (position, index) in indices.enumerated() {
                    (target + position * area).update(from: sp + index * area, count: area)
                }
            }
        }
        for index in indices { labels.append(self.labels[index]) }
        return x
    }

    /// The order of training rows for one epoch.
    ///
    /// `weighted`: like PyTorch's `WeightedRandomSampler` with per-class weight ∝ 1/n_c, `count` draws with
    /// replacement — drawn as a class (probability ∝ n_c · w_c, i.e. equal for present classes) then a uniform row
    /// of that class, which is the same distribution. `shuffle`: a Fisher–Yates permutation.
    public func epochOrder(_ kind: SamplerKind, random: inout PCG64) -> [Int] {
        switch kind {
        case .shuffle:
            var order = Array(0..<count)
            for i in stride(from: count - 1, through: 1, by: -1) { order.swapAt(i, random.bounded(i + 1)) }
            return order
        case .weighted:
            var byClass = [[Int]](repeating: [], count: classes)
            for (index, label) in labels.enumerated() { byClass[label].append(index) }
            let present = byClass.indices.filter { !byClass[$0].isEmpty }
            return (0..<count).map { _ in
                let members = byClass[present[random.bounded(present.count)]]
                return members[random.bounded(members.count)]
            }
        }
    }
}
