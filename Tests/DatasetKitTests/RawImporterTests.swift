// RawImporterTests: the research raw layout → dataset, the NumPy split, and every bad input with its position.
import DatasetKit
import Foundation
import Logging
import TestSupport
import Testing

/// Builds a raw-layout directory (intra_raw_blocks/, labels/, qps/) in a temporary directory.
struct RawLayout {
    let dir = TemporaryDirectory("ablate-raw")
    let blockSize: Int

    init(blockSize: Int = 16) {
        self.blockSize = blockSize
    }

    var path: String { dir.path }

    /// Writes `count` blocks whose sample values encode the global row index `firstRow + i`.
    func addSequence(
        _ name: String, count: Int, firstRow: Int, labels: [String]? = nil, qps: [String]? = nil,
        extraBytes: Int = 0, includeLabels: Bool = true, includeQPs: Bool = true
    ) {
        var bytes: [UInt8] = []
        for i in 0..<count {
            for p in 0..<(blockSize * blockSize) {
                let value = UInt16(((firstRow + i) * 7 + p) % 1024)
                bytes.append(UInt8(value & 0xff))
                bytes.append(UInt8(value >> 8))
            }
        }
        bytes += [UInt8](repeating: 1, count: extraBytes)
        dir.write("intra_raw_blocks/\(name)_sample_\(blockSize).txt", bytes: bytes)
        if includeLabels {
            let lines = labels ?? (0..<count).map { String(Self.label(firstRow + $0)) }
            dir.write("labels/\(name)_labels_\(blockSize)_intra.txt", text: lines.joined(separator: "\n") + "\n")
        }
        if includeQPs {
            let lines = qps ?? (0..<count).map { String(Self.qp(firstRow + $0)) }
            dir.write("qps/\(name)_qps_\(blockSize)_intra.txt", text: lines.joined(separator: "\n") + "\n")
        }
    }

    static func label(_ row: Int) -> UInt8 { UInt8((row * 5) % 8) }
    static func qp(_ row: Int) -> UInt8 { UInt8(80 + row % 3) }

    func file(_ relative: String) -> String { dir.file(relative) }
}

@Suite("Raw importer")
struct RawImporterTests {
    /// 17 rows from two sequences (sorted by code point: "Zeta" before "alpha"); a third lacks its QP file and
    /// is skipped. The split must equal NumPy's `default_rng(0).permutation(17)` from the fixture, first 13 train.
    @Test func importsAndSplitsLikeTheResearchPipeline() throws {
        let raw = RawLayout()
        raw.addSequence("Zeta", count: 6, firstRow: 0)
        raw.addSequence("alpha", count: 11, firstRow: 6)
        raw.addSequence("beta", count: 3, firstRow: 100, includeQPs: false)
        let log = CapturedLog()
        let dataset = try RawImporter(rawDirectory: raw.path, blockSize: 16, valFraction: 0.2, seed: 0)
            .run(logger: log.logger("dataset"))
        #expect(log.records.count == 1)
        #expect(log.records.first?.level == .warning)
        #expect(log.messages.first?.contains("beta") == true)

        let fixture = try Fixtures.json("numpy_rng")
        let permutations = try #require(fixture["permutations"] as? [[String: Any]])
        let entry = try #require(permutations.first { ($0["seed"] as? Int) == 0 && ($0["n"] as? Int) == 17 })
        let permutation = try #require(entry["permutation"] as? [Int])
        #expect(dataset.train.count == 13)
        #expect(dataset.val.count == 4)
        for (split, rows) in [(dataset.train, Array(permutation[..<13])), (dataset.val, Array(permutation[13...]))] {
            for (position, row) in rows.enumerated() {
                #expect(split.labels[position] == RawLayout.label(row))
                #expect(split.qp[position] == RawLayout.qp(row))
                #expect(split.blocks[position * 256] == UInt16((row * 7) % 1024))
                #expect(split.blocks[position * 256 + 255] == UInt16((row * 7 + 255) % 1024))
            }
        }
        #expect(dataset.attributes.splitSeed == 0)
        #expect(dataset.attributes.valFraction == 0.2)
        #expect(dataset.extraAttributes["sequences"] == "Zeta:6\nalpha:11")
    }

    @Test func otherBlockSizesAndBlankLines() throws {
        let raw = RawLayout(blockSize: 8)
        raw.addSequence("s", count: 5, firstRow: 0, labels: ["0", "", "1", "  2 ", "3\r", "4", ""])
        let dataset = try RawImporter(rawDirectory: raw.path, blockSize: 8, valFraction: 0.4, seed: 42).run()
        #expect(dataset.train.count == 3)
        #expect(dataset.val.count == 2)
        #expect(dataset.train.blocks.count == 3 * 64)
        #expect(Set(dataset.train.labels + dataset.val.labels) == [0, 1, 2, 3, 4])
    }

    // MARK: - Bad input: one error naming the file and the position

    static func importError(_ raw: RawLayout, blockSize: Int = 16) throws -> DataInputError {
        try #require(throws: DataInputError.self) {
            try RawImporter(rawDirectory: raw.path, blockSize: blockSize).run()
        }
    }

    @Test func missingDirectoryAndFiles() throws {
        let missing = try #require(throws: DataInputError.self) {
            try RawImporter(rawDirectory: "/nonexistent/raw").run()
        }
        #expect(missing.description.contains("/nonexistent/raw"))
        let empty = RawLayout()
        empty.dir.write("labels/x.txt", text: "")
        #expect(try Self.importError(empty).description.contains("intra_raw_blocks"))
        let incomplete = RawLayout()
        incomplete.addSequence("only", count: 2, firstRow: 0, includeLabels: false)
        let error = try Self.importError(incomplete)
        #expect(error.description.contains("no complete sequence"))
        #expect(error.description.contains("only_labels_16_intra.txt"))
    }

    @Test func labelAndSampleCountsDiffer() throws {
        let raw = RawLayout()
        raw.addSequence("s", count: 4, firstRow: 0, labels: ["1", "2", "3"])
        let error = try Self.importError(raw)
        #expect(error.file == raw.file("labels/s_labels_16_intra.txt"))
        #expect(error.description.contains("3 labels but"))
        #expect(error.description.contains("holds 4 blocks"))
        let qps = RawLayout()
        qps.addSequence("s", count: 4, firstRow: 0, qps: ["80", "80", "80", "80", "80"])
        #expect(try Self.importError(qps).description.contains("5 QPs but"))
    }

    @Test func sampleFileSizeNotAMultipleOfABlock() throws {
        let raw = RawLayout()
        raw.addSequence("s", count: 3, firstRow: 0, extraBytes: 100)
        let error = try Self.importError(raw)
        #expect(error.file == raw.file("intra_raw_blocks/s_sample_16.txt"))
        #expect(error.position == "byte offset 1536")
        #expect(error.description.contains("not a multiple of 512"))
    }

    @Test func labelOutsideRange() throws {
        let raw = RawLayout()
        raw.addSequence("s", count: 3, firstRow: 0, labels: ["1", "12", "3"])
        let error = try Self.importError(raw)
        #expect(error.file == raw.file("labels/s_labels_16_intra.txt"))
        #expect(error.position == "line 2")
        #expect(error.description.contains("label 12 is outside 0–9"))
    }

    @Test func nonIntegerLine() throws {
        let raw = RawLayout()
        raw.addSequence("s", count: 3, firstRow: 0, labels: ["1", "2", "PARTITION_NONE"])
        let error = try Self.importError(raw)
        #expect(error.position == "line 3")
        #expect(error.description.contains("'PARTITION_NONE' is not an integer"))
        let qp = RawLayout()
        qp.addSequence("s", count: 2, firstRow: 0, qps: ["80", "8.5"])
        let qpError = try Self.importError(qp)
        #expect(qpError.file == qp.file("qps/s_qps_16_intra.txt"))
        #expect(qpError.position == "line 2")
    }

    @Test func sampleOutsideBitDepth() throws {
        let raw = RawLayout()
        raw.addSequence("s", count: 1, firstRow: 0)
        var bytes = [UInt8](repeating: 0, count: 512)
        bytes[20] = 0x00
        bytes[21] = 0x10  // 4096 at byte offset 20: a big-endian or 12-bit file
        raw.dir.write("intra_raw_blocks/s_sample_16.txt", bytes: bytes)
        let error = try Self.importError(raw)
        #expect(error.position == "byte offset 20")
        #expect(error.description.contains("exceeds the 10-bit range"))
    }
}
