// DatasetFile: opens an Ablate dataset file, validates format, version and arrays, and reads rows.
import HDF5Kit

/// A validated, open dataset file. Reads whole splits or row ranges.
public final class DatasetFile {
    public let path: String
    public let attributes: DatasetAttributes
    /// Rows per split, keyed by split name.
    public let rowCounts: [String: Int]
    /// The content hash stored when the file was written (nil for files written without one).
    public let storedContentHash: String?
    private let file: H5File

    /// Opens and validates `path`; every problem is a `DataInputError` naming the file and object.
    public init(path: String) throws {
        self.path = path
        do {
            file = try H5File.open(path)
        } catch let error as HDF5Error {
            throw DataInputError(
                file: path, error.kind == .fileNotFound ? "no such file" : "not an HDF5 file, or truncated")
        }
        let format = try Self.attribute(file, "format", path)
        guard case .string(let formatName) = format, formatName == DatasetFormat.name else {
            throw DataInputError(
                file: path,
                "not an Ablate dataset (root attribute 'format' is \(Self.quoted(format)), expected '\(DatasetFormat.name)')"
            )
        }
        let version = try Self.attribute(file, "format_version", path)
        guard case .integer(let versionNumber) = version else {
            throw DataInputError(
                file: path, "root attribute 'format_version' is \(Self.quoted(version)), expected an integer")
        }
        guard versionNumber == DatasetFormat.version else {
            throw DataInputError(
                file: path,
                "dataset format_version \(versionNumber) is not supported (this build reads version \(DatasetFormat.version))"
            )
        }
        let blockSize = try Self.integer(file, "block_size", path)
        let bitDepth = try Self.integer(file, "bit_depth", path)
        guard (1...1024).contains(blockSize), (1...16).contains(bitDepth) else {
            throw DataInputError(file: path, "invalid block_size \(blockSize) or bit_depth \(bitDepth)")
        }
        let source: String
        if case .string(let text) = try file.attribute("source") { source = text } else { source = "" }
        let splitSeed = (try? file.integerAttribute("split_seed")) ?? -1
        let valFraction = (try? file.realAttribute("val_fraction")) ?? .nan
        attributes = DatasetAttributes(
            blockSize: blockSize, bitDepth: bitDepth, source: source, splitSeed: splitSeed, valFraction: valFraction)
        if case .string(let hash) = try file.attribute("content_sha256") {
            storedContentHash = hash
        } else {
            storedContentHash = nil
        }

        var counts: [String: Int] = [:]
        for split in DatasetFormat.splits {
            let blocks = try Self.array(file, "\(split)/blocks", .uint16, path)
            let labels = try Self.array(file, "\(split)/labels", .uint8, path)
            let qp = try Self.array(file, "\(split)/qp", .uint8, path)
            guard blocks.shape.count == 3, blocks.shape[1] == blockSize, blocks.shape[2] == blockSize else {
                throw DataInputError(
                    file: path, position: "/\(split)/blocks",
                    "shape \(blocks.shape), expected [N, \(blockSize), \(blockSize)]")
            }
            for (name, array) in [("labels", labels), ("qp", qp)] {
                guard array.shape.count == 1 else {
                    throw DataInputError(
                        file: path, position: "/\(split)/\(name)", "shape \(array.shape), expected [N]")
                }
                guard array.shape[0] == blocks.shape[0] else {
                    throw DataInputError(
                        file: path, position: "/\(split)/\(name)",
                        "has \(array.shape[0]) rows but /\(split)/blocks has \(blocks.shape[0])")
                }
            }
            counts[split] = blocks.shape[0]
        }
        rowCounts = counts
    }

    /// Reads a whole split into memory, checking that labels are partition ids 0–9.
    public func loadSplit(_ split: String) throws -> DatasetSplit {
        let blocks: [UInt16] = try readArray(split, "blocks")
        let labels: [UInt8] = try readArray(split, "labels")
        let qp: [UInt8] = try readArray(split, "qp")
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw DataInputError(
                file: path, position: "/\(split)/labels row \(bad)", "label \(labels[bad]) is outside 0–9")
        }
        return DatasetSplit(blocks: blocks, labels: labels, qp: qp)
    }

    /// Reads the whole dataset into memory.
    public func load() throws -> Dataset {
        Dataset(attributes: attributes, train: try loadSplit("train"), val: try loadSplit("val"))
    }

    /// Reads the partition ids of a split.
    public func labels(_ split: String) throws -> [UInt8] { try readArray(split, "labels") }

    /// Reads the partition ids of a split, checking that each is 0–9 (what training and prediction read).
    public func checkedLabels(_ split: String) throws -> [UInt8] {
        let labels = try labels(split)
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw DataInputError(
                file: path, position: "/\(split)/labels row \(bad)", "label \(labels[bad]) is outside 0–9")
        }
        return labels
    }

    /// Recomputes the content hash and checks it against the stored `content_sha256` (files without one pass).
    /// - Throws: `DataInputError` when they differ: the arrays were changed after the file was written.
    public func verifiedContentHash() throws -> String {
        let hash = try computeContentHash()
        if let stored = storedContentHash, stored != hash {
            throw DataInputError(
                file: path,
                "content hash does not match the stored content_sha256: the arrays were changed after writing")
        }
        return hash
    }

    /// Reads rows `rows` of a split's blocks.
    public func blocks(_ split: String, rows: Range<Int>) throws -> [UInt16] {
        try wrap("/\(split)/blocks") { try file.dataset("\(split)/blocks").read(rows: rows) }
    }

    /// Recomputes the content hash from the arrays, streaming 64k rows at a time.
    public func computeContentHash() throws -> String {
        var hasher = ContentHasher()
        let b = attributes.blockSize
        let chunkRows = 65_536
        for split in DatasetFormat.splits {
            let n = rowCounts[split] ?? 0
            try wrap("/\(split)/blocks") {
                let blocks = try file.dataset("\(split)/blocks")
                hasher.beginArray(split: split, name: "blocks", dtype: "uint16", shape: [n, b, b])
                var buffer = [UInt16](repeating: 0, count: chunkRows * b * b)
                var start = 0
                while start < n {
                    let rows = start..<min(n, start + chunkRows)
                    try buffer.withUnsafeMutableBufferPointer { whole in
                        let part = UnsafeMutableBufferPointer(rebasing: whole[0..<(rows.count * b * b)])
                        try blocks.read(rows: rows, into: part)
                        hasher.add(UnsafeBufferPointer(part))
                    }
                    start = rows.upperBound
                }
            }
            for name in ["labels", "qp"] {
                let values: [UInt8] = try readArray(split, name)
                hasher.beginArray(split: split, name: name, dtype: "uint8", shape: [n])
                values.withUnsafeBufferPointer { hasher.add($0) }
            }
        }
        return hasher.finalize()
    }

    /// All root attributes as text, for `ablate data inspect`.
    public func rootAttributes() throws -> [(String, String)] {
        try file.attributeNames().map { name in (name, try file.attribute(name)?.description ?? "") }
    }

    private func readArray<T: H5Scalar>(_ split: String, _ name: String) throws -> [T] {
        try wrap("/\(split)/\(name)") { try file.dataset("\(split)/\(name)").read() }
    }

    private func wrap<T>(_ object: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HDF5Error {
            throw DataInputError(file: path, position: object, error.detail)
        }
    }

    private static func quoted(_ value: H5AttributeValue?) -> String {
        guard let value else { return "missing" }
        return "'\(value)'"
    }

    private static func attribute(_ file: H5File, _ name: String, _ path: String) throws -> H5AttributeValue? {
        do {
            return try file.attribute(name)
        } catch let error as HDF5Error {
            throw DataInputError(file: path, position: "@\(name)", error.detail)
        }
    }

    private static func integer(_ file: H5File, _ name: String, _ path: String) throws -> Int {
        guard case .integer(let value) = try attribute(file, name, path) else {
            throw DataInputError(file: path, "root attribute '\(name)' is missing or not an integer")
        }
        return Int(value)
    }

    private static func array(_ file: H5File, _ name: String, _ type: H5ElementType, _ path: String) throws -> H5Dataset
    {
        let dataset: H5Dataset
        do {
            guard try file.contains(name) else {
                throw DataInputError(file: path, position: "/\(name)", "missing array")
            }
            dataset = try file.dataset(name)
        } catch let error as HDF5Error {
            throw DataInputError(file: path, position: "/\(name)", error.detail)
        }
        guard dataset.elementType == type else {
            throw DataInputError(
                file: path, position: "/\(name)",
                "stored as \(dataset.elementType?.rawValue ?? "an unsupported type"), expected \(type.rawValue)")
        }
        return dataset
    }
}
