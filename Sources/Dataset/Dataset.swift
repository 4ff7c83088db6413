// Dataset: the in-memory form of an Ablate dataset (format version 1) and its attributes.

/// Constants of the dataset file format (documented in docs/dataset-format.md).
public enum DatasetFormat {
    /// Value of the root attribute `format`.
    public static let name = "ablate-dataset"
    /// Value of the root attribute `format_version` this build reads and writes.
    public static let version: Int64 = 1
    /// The splits, in file and hash order.
    public static let splits = ["train", "val"]
}

/// One split: `count` blocks of `blockSize`×`blockSize` luma samples with partition ids and QPs.
public struct DatasetSplit: Sendable, Equatable {
    /// Row-major samples, `count * blockSize * blockSize` values.
    public var blocks: [UInt16]
    /// Raw AV1 partition ids (0–9), one per block.
    public var labels: [UInt8]
    /// Quantiser per block.
    public var qp: [UInt8]

    public init(blocks: [UInt16], labels: [UInt8], qp: [UInt8]) {
        self.blocks = blocks
        self.labels = labels
        self.qp = qp
    }

    /// Number of blocks.
    public var count: Int { labels.count }

    /// Blocks per partition id (index = id 0–9).
    public func partitionCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: Partition.allCases.count)
        for label in labels where Int(label) < counts.count { counts[Int(label)] += 1 }
        return counts
    }

    /// The rows `indices` of this split, in that order.
    public func gathering(_ indices: [Int], blockSize: Int) -> DatasetSplit {
        let area = blockSize * blockSize
        var blocks = [UInt16]()
        blocks.reserveCapacity(indices.count * area)
        for index in indices {
            blocks.append(contentsOf: self.blocks[(index * area)..<((index + 1) * area)])
        }
        return DatasetSplit(blocks: blocks, labels: indices.map { labels[$0] }, qp: indices.map { qp[$0] })
    }
}

/// The root attributes of a dataset file.
public struct DatasetAttributes: Sendable, Equatable {
    public var blockSize: Int
    public var bitDepth: Int
    /// Free text saying where the data came from.
    public var source: String
    /// Seed of the train/validation split (or of the generator for synthetic data).
    public var splitSeed: Int64
    /// Fraction of rows in the validation split.
    public var valFraction: Double

    public init(blockSize: Int, bitDepth: Int, source: String, splitSeed: Int64, valFraction: Double) {
        self.blockSize = blockSize
        self.bitDepth = bitDepth
        self.source = source
        self.splitSeed = splitSeed
        self.valFraction = valFraction
    }
}

/// A whole dataset in memory.
public struct Dataset: Sendable, Equatable {
    public var attributes: DatasetAttributes
    public var train: DatasetSplit
    public var val: DatasetSplit
    /// Extra string attributes to store at the root (e.g. the list of imported sequences).
    public var extraAttributes: [String: String]

    public init(
        attributes: DatasetAttributes, train: DatasetSplit, val: DatasetSplit, extraAttributes: [String: String] = [:]
    ) {
        self.attributes = attributes
        self.train = train
        self.val = val
        self.extraAttributes = extraAttributes
    }

    /// The split called `name` (`train` or `val`).
    public func split(_ name: String) -> DatasetSplit? {
        switch name {
        case "train": train
        case "val": val
        default: nil
        }
    }
}
