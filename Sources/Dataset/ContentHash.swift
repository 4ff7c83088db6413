// ContentHash: SHA-256 over a dataset's arrays (not its file bytes), stable across storage layouts.
import AblateSupport
import Crypto
import Foundation

/// The dataset content hash (documented in docs/dataset-format.md).
///
/// The digest covers, in order, a version line and then for each split (`train`, `val`) and array
/// (`blocks`, `labels`, `qp`) a header line `split/array dtype dim0,dim1,…\n` followed by the values as
/// little-endian bytes in row-major order. Attributes, chunking and compression do not enter it.
public struct ContentHasher {
    private var sha = SHA256()

    public static let versionLine = "ablate-dataset-content-v1\n"

    public init() {
        sha.update(data: Array(Self.versionLine.utf8))
    }

    /// Starts an array: its header line.
    public mutating func beginArray(split: String, name: String, dtype: String, shape: [Int]) {
        let header = "\(split)/\(name) \(dtype) \(shape.map(String.init).joined(separator: ","))\n"
        sha.update(data: Array(header.utf8))
    }

    /// Adds uint16 values (as little-endian bytes).
    public mutating func add(_ values: UnsafeBufferPointer<UInt16>) {
        if UInt16(1).littleEndian == 1 {
            sha.update(bufferPointer: UnsafeRawBufferPointer(values))
        } else {
            let swapped = values.map { $0.littleEndian }
            swapped.withUnsafeBytes { sha.update(bufferPointer: $0) }
        }
    }

    /// Adds bytes.
    public mutating func add(_ values: UnsafeBufferPointer<UInt8>) {
        sha.update(bufferPointer: UnsafeRawBufferPointer(values))
    }

    /// The hex digest.
    public func finalize() -> String {
        SHA256Hex.hex(sha.finalize())
    }
}

extension Dataset {
    /// The content hash of this in-memory dataset.
    public func contentHash() -> String {
        var hasher = ContentHasher()
        let b = attributes.blockSize
        for name in DatasetFormat.splits {
            guard let split = split(name) else { continue }
            hasher.beginArray(split: name, name: "blocks", dtype: "uint16", shape: [split.count, b, b])
            split.blocks.withUnsafeBufferPointer { hasher.add($0) }
            hasher.beginArray(split: name, name: "labels", dtype: "uint8", shape: [split.count])
            split.labels.withUnsafeBufferPointer { hasher.add($0) }
            hasher.beginArray(split: name, name: "qp", dtype: "uint8", shape: [split.count])
            split.qp.withUnsafeBufferPointer { hasher.add($0) }
        }
        return hasher.finalize()
    }
}
