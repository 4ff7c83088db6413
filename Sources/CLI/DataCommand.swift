import AblateLog
// DataCommand: `ablate data import|synth|inspect`, the dataset tools.
import ArgumentParser
import DatasetKit
import Foundation

/// Dataset tools: import the research layout, generate synthetic data, inspect a file.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Create and inspect Ablate dataset files.",
        subcommands: [ImportCommand.self, SynthCommand.self, InspectCommand.self])
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import the research pipeline's raw layout (intra_raw_blocks/, labels/, qps/) into a dataset file.")

    @Option(help: "Directory holding intra_raw_blocks/, labels/ and qps/.")
    var raw: String

    @Option(help: "Block size B (files *_sample_B.txt).")
    var blockSize: Int = 16

    @Option(name: [.short, .long], help: "Output dataset file (.h5).")
    var out: String

    @Option(help: "Fraction of rows for validation (the first int(N*(1-f)) permuted rows train).")
    var valFraction: Double = 0.2

    @Option(help: "Seed of numpy.random.default_rng(seed).permutation(N).")
    var seed: UInt64 = 42

    @Option(help: "Bit depth of the samples.")
    var bitDepth: Int = 10

    @Flag(help: "Replace an existing output file.")
    var force = false

    func validate() throws {
        guard [4, 8, 16, 32, 64, 128].contains(blockSize) else {
            throw ValidationError("--block-size \(blockSize): expected one of 4, 8, 16, 32, 64, 128")
        }
        guard (0..<1).contains(valFraction) else { throw ValidationError("--val-fraction must be in [0, 1)") }
        guard (1...16).contains(bitDepth) else { throw ValidationError("--bit-depth must be in 1…16") }
    }

    func run() throws {
        if !force, FileManager.default.fileExists(atPath: out) {
            throw DataInputError(file: out, "already exists (use --force to overwrite)")
        }
        let start = Date()
        let importer = RawImporter(
            rawDirectory: raw, blockSize: blockSize, valFraction: valFraction, seed: seed, bitDepth: bitDepth)
        let dataset = try importer.run(logger: AblateLogging.logger("dataset", to: .standardError))
        let hash = try OutputFile.write(to: out) { try DatasetWriter.write(dataset, to: out, overwrite: force) }
        print(
            "imported \(dataset.train.count + dataset.val.count) blocks (train \(dataset.train.count), val \(dataset.val.count)) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s"
        )
        print("wrote \(out)  content sha256 \(hash)")
    }
}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a synthetic dataset shaped like the research data, with content-driven labels.")

    @Option(name: [.short, .long], help: "Output dataset file (.h5).")
    var out: String

    @Option(help: "Training rows.")
    var train: Int

    @Option(help: "Validation rows.")
    var val: Int

    @Option(help: "Generator seed.")
    var seed: UInt64 = 42

    @Option(help: "Block size (even).")
    var blockSize: Int = 16

    @Flag(help: "Replace an existing output file.")
    var force = false

    func validate() throws {
        guard train >= 0, val >= 0 else { throw ValidationError("--train and --val must be non-negative") }
        guard blockSize >= 4, blockSize <= 128, blockSize % 2 == 0 else {
            throw ValidationError("--block-size must be even and in 4…128")
        }
    }

    func run() throws {
        if !force, FileManager.default.fileExists(atPath: out) {
            throw DataInputError(file: out, "already exists (use --force to overwrite)")
        }
        let start = Date()
        let progress = SynthProgress(total: train + val)
        let dataset = SyntheticGenerator(blockSize: blockSize).dataset(
            train: train, val: val, seed: seed, progress: progress.advance)
        progress.finish()
        let generated = Date().timeIntervalSince(start)
        let hash = try OutputFile.write(to: out) { try DatasetWriter.write(dataset, to: out, overwrite: force) }
        let total = Date().timeIntervalSince(start)
        let blocks = train + val
        let rate = generated > 0 ? Double(blocks) / generated : 0
        print(
            "generated \(blocks) blocks in \(String(format: "%.3f", generated)) s (\(Int(rate)) blocks/s); wrote in \(String(format: "%.3f", total - generated)) s"
        )
        print("wrote \(out)  content sha256 \(hash)")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a dataset file's attributes, counts per split and class, and content hash.")

    @Argument(help: "Dataset file (.h5).")
    var file: String

    func run() throws {
        let dataset = try DatasetFile(path: file)
        print(file)
        for (name, value) in try dataset.rootAttributes() {
            print(
                "  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(value.replacingOccurrences(of: "\n", with: ", "))"
            )
        }
        let hash = try dataset.computeContentHash()
        let check: String
        switch dataset.storedContentHash {
        case nil: check = "(no stored hash)"
        case hash?: check = "(matches the stored content_sha256)"
        case let stored?: check = "(MISMATCH: stored content_sha256 is \(stored))"
        }
        print("  content hash     \(hash) \(check)")
        print("")
        let summary = DatasetSummary(labelsBySplit: try DatasetFormat.splits.map { ($0, try dataset.labels($0)) })
        print(summary.table())
        if let stored = dataset.storedContentHash, stored != hash {
            throw DataInputError(
                file: file,
                "content hash does not match the stored content_sha256: the arrays were changed after writing")
        }
    }
}
