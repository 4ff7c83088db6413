// RawImporter: reads the research pipeline's raw layout (binary blocks, text labels and QPs) and splits it.
import AblateSupport
import Foundation
import Logging

/// Imports `intra_raw_blocks/{seq}_sample_{B}.txt` (binary uint16 LE), `labels/{seq}_labels_{B}_intra.txt` and
/// `qps/{seq}_qps_{B}_intra.txt` (one integer per line) into a `Dataset`, split as
/// `numpy.random.default_rng(seed).permutation(N)` with the first `int(N * (1 - val_fraction))` rows for training.
public struct RawImporter {
    public var rawDirectory: String
    public var blockSize: Int
    public var valFraction: Double
    public var seed: UInt64
    public var bitDepth: Int

    public init(
        rawDirectory: String, blockSize: Int = 16, valFraction: Double = 0.2, seed: UInt64 = 42, bitDepth: Int = 10
    ) {
        self.rawDirectory = rawDirectory
        self.blockSize = blockSize
        self.valFraction = valFraction
        self.seed = seed
        self.bitDepth = bitDepth
    }

    /// One sequence's three files.
    public struct Sequence: Sendable, Equatable {
        public let name: String
        public let samplesPath: String
        public let labelsPath: String
        public let qpsPath: String
    }

    /// What discovery found: usable sequences in sorted order, and sequences skipped for a missing file.
    public struct Discovery: Sendable {
        public var sequences: [Sequence]
        /// (sequence, the missing file's path)
        public var skipped: [(String, String)]
    }

    /// Finds the sequences of block size `blockSize`, in Python's sorted order (by code points).
    public func discover() throws -> Discovery {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: rawDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataInputError(file: rawDirectory, "raw data directory does not exist")
        }
        let samplesDirectory = rawDirectory + "/intra_raw_blocks"
        guard let names = try? fm.contentsOfDirectory(atPath: samplesDirectory) else {
            throw DataInputError(
                file: samplesDirectory, "missing directory (expected intra_raw_blocks/, labels/, qps/)")
        }
        let suffix = "_sample_\(blockSize).txt"
        let sequenceNames = names.filter { $0.hasSuffix(suffix) && $0.count > suffix.count }
            .map { String($0.dropLast(suffix.count)) }
            .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        var discovery = Discovery(sequences: [], skipped: [])
        for name in sequenceNames {
            let sequence = Sequence(
                name: name,
                samplesPath: "\(samplesDirectory)/\(name)\(suffix)",
                labelsPath: "\(rawDirectory)/labels/\(name)_labels_\(blockSize)_intra.txt",
                qpsPath: "\(rawDirectory)/qps/\(name)_qps_\(blockSize)_intra.txt")
            if !fm.fileExists(atPath: sequence.labelsPath) {
                discovery.skipped.append((name, sequence.labelsPath))
            } else if !fm.fileExists(atPath: sequence.qpsPath) {
                discovery.skipped.append((name, sequence.qpsPath))
            } else {
                discovery.sequences.append(sequence)
            }
        }
        guard !discovery.sequences.isEmpty else {
            let detail = discovery.skipped.first.map { "; \($0.0) lacks \($0.1)" } ?? ""
            throw DataInputError(file: samplesDirectory, "no complete sequence with files *\(suffix)\(detail)")
        }
        return discovery
    }

    /// Reads every sequence, concatenated in order, and returns the unsplit arrays.
    public func readAll(_ sequences: [Sequence]) throws -> (all: DatasetSplit, rowsPerSequence: [Int]) {
        var all = DatasetSplit(blocks: [], labels: [], qp: [])
        var rowsPerSequence: [Int] = []
        for sequence in sequences {
            let blocks = try Self.readSamples(sequence.samplesPath, blockSize: blockSize, bitDepth: bitDepth)
            let count = blocks.count / (blockSize * blockSize)
            let labels = try Self.readIntegers(sequence.labelsPath, what: "label", range: 0...9)
            let qps = try Self.readIntegers(sequence.qpsPath, what: "QP", range: 0...255)
            guard labels.count == count else {
                throw DataInputError(
                    file: sequence.labelsPath,
                    "\(labels.count) labels but \(sequence.samplesPath) holds \(count) blocks")
            }
            guard qps.count == count else {
                throw DataInputError(
                    file: sequence.qpsPath, "\(qps.count) QPs but \(sequence.samplesPath) holds \(count) blocks")
            }
            all.blocks.append(contentsOf: blocks)
            all.labels.append(contentsOf: labels)
            all.qp.append(contentsOf: qps)
            rowsPerSequence.append(count)
        }
        return (all, rowsPerSequence)
    }

    /// Discovers, reads and splits. `logger` gets a warning per skipped sequence (by default nothing is logged).
    public func run(logger: Logger = Logger(label: "dataset") { _ in SwiftLogNoOpLogHandler() }) throws -> Dataset {
        guard valFraction >= 0, valFraction < 1 else {
            throw DataInputError(file: rawDirectory, "--val-fraction \(valFraction) must be in [0, 1)")
        }
        let discovery = try discover()
        for (name, missing) in discovery.skipped {
            logger.warning("skipping sequence \(name): missing \(missing)")
        }
        let (all, rowsPerSequence) = try readAll(discovery.sequences)
        let n = all.count
        var generator = NumPyGenerator(seed: seed)
        let permutation = generator.permutation(n)
        let trainCount = Int(Double(n) * (1.0 - valFraction))
        let attributes = DatasetAttributes(
            blockSize: blockSize, bitDepth: bitDepth,
            source: "raw import of \(URL(fileURLWithPath: rawDirectory).standardizedFileURL.path)",
            splitSeed: Int64(seed), valFraction: valFraction)
        return Dataset(
            attributes: attributes,
            train: all.gathering(Array(permutation[..<trainCount]), blockSize: blockSize),
            val: all.gathering(Array(permutation[trainCount...]), blockSize: blockSize),
            extraAttributes: [
                "sequences": zip(discovery.sequences, rowsPerSequence).map { "\($0.name):\($1)" }.joined(
                    separator: "\n")
            ])
    }

    // MARK: - File readers

    /// Reads a binary sample file: consecutive B×B blocks of uint16 little-endian values.
    static func readSamples(_ path: String, blockSize: Int, bitDepth: Int) throws -> [UInt16] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataInputError(file: path, "cannot read file")
        }
        let blockBytes = 2 * blockSize * blockSize
        guard data.count % blockBytes == 0 else {
            let complete = data.count / blockBytes
            throw DataInputError(
                file: path, position: "byte offset \(complete * blockBytes)",
                "size \(data.count) bytes is not a multiple of \(blockBytes) (one \(blockSize)×\(blockSize) block of uint16); the last block is incomplete"
            )
        }
        let maxValue = UInt16((1 << bitDepth) - 1)
        var values = [UInt16](repeating: 0, count: data.count / 2)
        try data.withUnsafeBytes { raw in
            for i in 0..<values.count {
                let value = UInt16(raw[2 * i]) | (UInt16(raw[2 * i + 1]) << 8)
                if value > maxValue {
                    throw DataInputError(
                        file: path, position: "byte offset \(2 * i)",
                        "sample value \(value) exceeds the \(bitDepth)-bit range 0–\(maxValue) (a big-endian file?)")
                }
                values[i] = value
            }
        }
        return values
    }

    /// Reads a text file of one integer per line (blank lines ignored) with every value in `range`.
    static func readIntegers(_ path: String, what: String, range: ClosedRange<Int>) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataInputError(file: path, "cannot read file")
        }
        var values: [UInt8] = []
        values.reserveCapacity(data.count / 2)
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 11 || $0 == 12 }
            guard let first = line.firstIndex(where: { !isSpace($0) }),
                let last = line.lastIndex(where: { !isSpace($0) })
            else { continue }
            let token = line[first...last]
            guard let value = Int(String(decoding: token, as: UTF8.self)) else {
                let text = String(decoding: token.prefix(40), as: UTF8.self)
                throw DataInputError(file: path, position: "line \(lineNumber)", "'\(text)' is not an integer")
            }
            guard range.contains(value) else {
                throw DataInputError(
                    file: path, position: "line \(lineNumber)",
                    "\(what) \(value) is outside \(range.lowerBound)–\(range.upperBound)")
            }
            values.append(UInt8(value))
        }
        return values
    }
}
