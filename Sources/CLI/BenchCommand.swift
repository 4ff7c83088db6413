// BenchCommand: `ablate bench train`, the training benchmark, beside PyTorch CPU in the same run when available.
import AblateBench
import ArgumentParser
import Foundation
import NN
import RunSpec
import WorkerKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (use a release build).",
        subcommands: [
            BenchTrainCommand.self, BenchProtocolCommand.self, BenchHeartbeatsCommand.self,
            BenchCalibrationCommand.self,
        ])
}

/// Measures the exact Stage-2 model's throughput; runs bench/torch_baseline.py with the same settings when
/// `python3 -c "import torch"` works and prints the Ablate/PyTorch ratios from this run.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training and inference throughput of the research Stage-2 model, with PyTorch CPU beside it.")

    @Option(help: "Seconds per measurement.") var seconds: Double = 10
    @Option(help: "Compute threads (PyTorch gets the same).") var threads: Int = 1
    @Option(name: .customLong("cache-rows"), help: "Rows whose prefix output is computed to time the cache build.")
    var cacheRows: Int = 8192
    @Option(help: "Write the results as JSON here.") var json: String?
    @Option(name: .customLong("torch-script"), help: "PyTorch baseline script.") var torchScript: String =
        "bench/torch_baseline.py"
    @Flag(name: .customLong("no-torch"), help: "Skip the PyTorch baseline.") var noTorch = false
    @OptionGroup var kernelOptions: KernelOptions

    /// sgemm GFLOP/s per shape (rows) and path (columns: the own kernel paths, then OpenBLAS on one thread).
    private func printSGEMMTable(_ figures: [GEMMBenchmark.Figure]) {
        var paths: [String] = []
        var shapes: [String] = []
        for figure in figures {
            if !paths.contains(figure.path) { paths.append(figure.path) }
            if !shapes.contains(figure.shape) { shapes.append(figure.shape) }
        }
        print("")
        print("sgemm GFLOP/s at the trainer's shapes (own paths on \(threads) thread(s), openblas on 1):")
        print("".padding(toLength: 36, withPad: " ", startingAt: 0) + paths.map { $0.leftPadded(10) }.joined())
        for shape in shapes {
            let cells = paths.map { path in
                figures.first { $0.shape == shape && $0.path == path }.map { String(format: "%.1f", $0.gflops) } ?? "-"
            }
            print(shape.padding(toLength: 36, withPad: " ", startingAt: 0) + cells.map { $0.leftPadded(10) }.joined())
        }
    }

    func run() throws {
        try kernelOptions.apply()
        var benchmark = TrainingBenchmark()
        benchmark.seconds = seconds
        benchmark.threads = threads
        benchmark.cacheRows = cacheRows
        let result = benchmark.run(log: { print("  " + $0) })
        let torch = noTorch ? nil : runTorch()
        print("")
        print(
            "Stage-2 model (width 64, γ = 4, batch \(result.batchSize)), GEMM kernel \(result.gemmKernel) (OpenBLAS \(result.blasCore) as reference), \(result.blasThreads) thread(s)"
        )
        func row(_ name: String, _ value: Double, _ reference: Double?) {
            let ratio = reference.map { String(format: "%6.2f×", value / $0) } ?? "      -"
            let torchText = reference.map { String(format: "%10.0f", $0) } ?? "         -"
            print(
                "\(name.padding(toLength: 52, withPad: " ", startingAt: 0))\(String(format: "%10.0f", value)) \(torchText)  \(ratio)"
            )
        }
        print("\("".padding(toLength: 52, withPad: " ", startingAt: 0))    ablate    pytorch   ratio")
        row("training samples/s, prefix cache", result.trainSamplesPerSecondCached, torch?["train_samples_per_s"])
        row(
            "training samples/s, no cache (backbone_bn train)", result.trainSamplesPerSecondUncached,
            torch?["train_samples_per_s"])
        row("inference samples/s", result.inferenceSamplesPerSecond, torch?["inference_samples_per_s"])
        print(
            String(
                format: "cache build: %.0f rows/s (research scale, 190,856 rows: %.1f s)",
                result.cacheBuildRowsPerSecond, result.cacheBuildSecondsResearchScale))
        print(
            String(
                format:
                    "sgemm GFLOP/s during cached training: %.1f; peak resident memory %.0f MiB; minor page faults per cached step: %.1f",
                result.gflopsCachedTraining, result.peakResidentMebibytes, result.pageFaultsPerCachedStep))
        print(
            String(
                format:
                    "buffers allocated per training step (not reused from the step before): %.1f with the cache, %.1f without",
                result.bufferAllocationsPerCachedStep, result.bufferAllocationsPerUncachedStep))
        printSGEMMTable(result.sgemm)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            var object = try JSONSerialization.jsonObject(with: encoder.encode(result)) as? [String: Any] ?? [:]
            if let torch { object["pytorch"] = torch }
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]).write(
                to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }

    /// Runs the PyTorch baseline; nil (with a note) when python3, torch or the script is missing.
    func runTorch() -> [String: Double]? {
        guard FileManager.default.fileExists(atPath: torchScript) else {
            print("  PyTorch baseline skipped: \(torchScript) not found (run from the repository root)")
            return nil
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import torch"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return nil }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("  PyTorch baseline skipped: python3 cannot import torch")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", torchScript, "--threads", String(threads), "--seconds", String(seconds)]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            print("  PyTorch baseline failed (exit \(process.terminationStatus))")
            return nil
        }
        print("  PyTorch \(object["torch"] ?? "?"): measured")
        return object.compactMapValues { $0 as? Double }
    }
}

extension String {
    /// The string right-aligned in `width` characters (never cut).
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
