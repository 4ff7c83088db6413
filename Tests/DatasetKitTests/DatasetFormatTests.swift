// DatasetFormatTests: writing and validating dataset files, and the content hash against an independent reference.
import DatasetKit
import Foundation
import HDF5Kit
import TestSupport
import Testing

@Suite("Dataset format")
struct DatasetFormatTests {
    /// The formula dataset of scripts/fixtures/make_dataset_hash_fixture.py.
    static func formulaDataset() -> Dataset {
        func split(_ s: Int, _ n: Int) -> DatasetSplit {
            var blocks: [UInt16] = []
            for r in 0..<n {
                for y in 0..<4 {
                    for x in 0..<4 { blocks.append(UInt16((r * 37 + y * 11 + x * 5 + s * 101) % 1024)) }
                }
            }
            return DatasetSplit(
                blocks: blocks, labels: (0..<n).map { UInt8((3 * $0 + s) % 8) },
                qp: (0..<n).map { UInt8(40 + 8 * $0 + s) })
        }
        return Dataset(
            attributes: DatasetAttributes(
                blockSize: 4, bitDepth: 10, source: "formula", splitSeed: 1, valFraction: 0.375),
            train: split(0, 5), val: split(1, 3))
    }

    /// The hash equals the one NumPy + hashlib computed for the same arrays.
    @Test func contentHashMatchesIndependentReference() throws {
        let fixture = try Fixtures.json("dataset_hash")
        let expected = try #require(fixture["sha256"] as? String)
        #expect(Self.formulaDataset().contentHash() == expected)
    }

    @Test func writeReadRoundTrip() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("d.h5")
        let dataset = Self.formulaDataset()
        let hash = try DatasetWriter.write(dataset, to: path, overwrite: false)
        let file = try DatasetFile(path: path)
        #expect(file.attributes == dataset.attributes)
        #expect(file.rowCounts == ["train": 5, "val": 3])
        #expect(try file.load().train == dataset.train)
        #expect(try file.load().val == dataset.val)
        #expect(file.storedContentHash == hash)
        #expect(try file.computeContentHash() == hash)
        #expect(try file.blocks("val", rows: 1..<2) == Array(dataset.val.blocks[16..<32]))
        #expect(dir.entries() == ["d.h5"], "no temporary file left behind")
    }

    /// The hash depends on the arrays only: chunking, compression and attributes do not change it.
    @Test func hashIgnoresStorageLayout() throws {
        let dir = TemporaryDirectory()
        let dataset = Self.formulaDataset()
        let path = dir.file("chunked.h5")
        do {
            let file = try H5File.create(path)
            for split in ["val", "train"] {
                let s = try #require(dataset.split(split))
                let g = try file.createGroup(split)
                try g.writeDataset("qp", s.qp, shape: [s.count], storage: .chunked(rows: 2, deflate: 9, shuffle: true))
                try g.writeDataset("labels", s.labels, shape: [s.count], storage: .chunked(rows: 1))
                try g.writeDataset("blocks", s.blocks, shape: [s.count, 4, 4], storage: .chunked(rows: 2, deflate: 1))
            }
            try file.setAttribute("source", "another layout")
            try file.setAttribute("bit_depth", 10)
            try file.setAttribute("block_size", 4)
            try file.setAttribute("format_version", 1)
            try file.setAttribute("format", "ablate-dataset")
            try file.close()
        }
        #expect(try DatasetFile(path: path).computeContentHash() == dataset.contentHash())
        var changed = dataset
        changed.val.labels[2] ^= 1
        #expect(changed.contentHash() != dataset.contentHash())
    }

    @Test func existingOutputIsKept() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("d.h5")
        dir.write("d.h5", text: "precious")
        let error = try #require(throws: (any Error).self) {
            try DatasetWriter.write(Self.formulaDataset(), to: path, overwrite: false)
        }
        #expect("\(error)".contains("already exists"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        #expect(dir.entries() == ["d.h5"])
        try DatasetWriter.write(Self.formulaDataset(), to: path, overwrite: true)
        #expect(try DatasetFile(path: path).rowCounts["train"] == 5)
        #expect(dir.entries() == ["d.h5"])
    }

    // MARK: - Validation of foreign and damaged files

    /// Writes a valid file, lets `damage` change it, and returns the error of opening it.
    static func openDamaged(_ damage: (H5File) throws -> Void) throws -> DataInputError {
        let dir = TemporaryDirectory()
        let path = dir.file("bad.h5")
        try DatasetWriter.write(formulaDataset(), to: path, overwrite: false)
        do {
            let file = try H5File.open(path, writable: true)
            try damage(file)
            try file.close()
        }
        let error = try #require(throws: DataInputError.self) { try DatasetFile(path: path).loadSplit("train") }
        #expect(error.file == path)
        return error
    }

    @Test func wrongFormatName() throws {
        let error = try Self.openDamaged { try $0.setAttribute("format", "distcnn-checkpoint") }
        #expect(error.description.contains("not an Ablate dataset"))
        #expect(error.description.contains("distcnn-checkpoint"))
    }

    @Test func wrongVersion() throws {
        let error = try Self.openDamaged { try $0.setAttribute("format_version", 2) }
        #expect(error.description.contains("format_version 2 is not supported"))
    }

    @Test func missingArray() throws {
        let error = try Self.openDamaged { try $0.removeLink("val/qp") }
        #expect(error.position == "/val/qp")
        #expect(error.description.contains("missing array"))
    }

    @Test func rowCountMismatch() throws {
        let error = try Self.openDamaged { file in
            try file.removeLink("train/labels")
            try file.group("train").writeDataset("labels", [1, 2] as [UInt8], shape: [2])
        }
        #expect(error.position == "/train/labels")
        #expect(error.description.contains("has 2 rows but /train/blocks has 5"))
    }

    @Test func wrongElementType() throws {
        let error = try Self.openDamaged { file in
            try file.removeLink("train/labels")
            try file.group("train").writeDataset("labels", [Float](repeating: 0, count: 5), shape: [5])
        }
        #expect(error.description.contains("stored as float32, expected uint8"))
    }

    @Test func labelOutsideRange() throws {
        let error = try Self.openDamaged { file in
            try file.dataset("train/labels").write([0, 1, 12, 3, 4] as [UInt8])
        }
        #expect(error.description.contains("label 12 is outside 0–9"))
        #expect(error.position == "/train/labels row 2")
    }

    @Test func notHDF5AndMissingFile() throws {
        let dir = TemporaryDirectory()
        dir.write("text.h5", text: "hello")
        let foreign = try #require(throws: DataInputError.self) { try DatasetFile(path: dir.file("text.h5")) }
        #expect(foreign.description.contains("not an HDF5 file"))
        let missing = try #require(throws: DataInputError.self) { try DatasetFile(path: dir.file("none.h5")) }
        #expect(missing.description.contains("no such file"))
    }

    @Test func summaryCounts() {
        let summary = DatasetSummary(labelsBySplit: [("train", [0, 0, 3, 1, 2, 4, 7]), ("val", [5])])
        #expect(summary.splits[0].counts.partitions == [2, 1, 1, 1, 1, 0, 0, 1, 0, 0])
        #expect(summary.splits[0].counts.stage2 == [1, 2, 2])
        #expect(summary.splits[1].counts.stage2 == [0, 0, 1])
        #expect(summary.table().contains("stage 2 train: 5 rows: SPLIT 1 (20.0 %), RECT 2 (40.0 %), AB 2 (40.0 %)"))
    }
}
