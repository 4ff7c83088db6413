// BenchProtocolCommand: `ablate bench protocol`, checkpoint streaming and metrics latency over loopback.
import AblateBench
import AblateSupport
import ArgumentParser
import CoordinatorKit
import Foundation
import ReportKit

/// Streams a file through the real transfer path and times metrics into the ledger; prints what it measured.
struct BenchProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protocol",
        abstract: "Checkpoint streaming throughput and metrics-to-ledger latency over a loopback socket pair.")

    @Option(help: "Size of the streamed file in MiB.") var megabytes = 512
    @Option(help: "Metrics reports to time.") var reports = 200
    @Option(help: "Endpoint to bind (tcp://127.0.0.1:* or ipc://PATH).") var endpoint = "tcp://127.0.0.1:*"
    @Option(help: "Scratch directory (removed afterwards); the coordinator's state directory is inside it.")
    var directory = "/tmp/ablate-bench-protocol"
    @Option(help: "Chunk size in KiB (the coordinator's setting).") var chunkKib = 256
    @Option(help: "Chunks in flight (the coordinator's credit window).") var window = 4
    @Option(
        help:
            "Times to run the whole measurement; with more than one, the median and range of the streaming rate follow."
    ) var runs = 1
    @Option(help: "Write the results as JSON here (the last run's).") var json: String?

    func validate() throws {
        guard megabytes >= 1 else { throw ValidationError("--megabytes: \(megabytes) must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs: \(runs) must be at least 1") }
        var settings = CoordinatorSettings()
        settings.chunkBytes = chunkKib * 1024
        settings.window = window
        if let problem = settings.problems().first { throw ValidationError("--chunk-kib/--window: \(problem)") }
    }

    func run() throws {
        var benchmark = ProtocolBenchmark()
        benchmark.megabytes = megabytes
        benchmark.metricsReports = reports
        benchmark.endpoint = endpoint
        benchmark.settings.chunkBytes = chunkKib * 1024
        benchmark.settings.window = window
        var rates: [Double] = []
        for _ in 0..<runs {
            let result = try measure(benchmark)
            rates.append(result.gigabytesPerSecond)
        }
        if runs > 1 {
            rates.sort()
            let median = PairedBootstrap.percentile(rates, 0.5)
            print(
                String(
                    format: "checkpoint streaming over %d runs: median %.2f GB/s, range %.2f–%.2f GB/s", runs, median,
                    rates[0], rates[rates.count - 1]))
        }
    }

    private func measure(_ benchmark: ProtocolBenchmark) throws -> ProtocolBenchmark.Result {
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try benchmark.run(directory: directory)
        print(
            String(
                format:
                    "checkpoint streaming: %d MiB in %.3f s = %.2f GB/s (%d KiB chunks, window %d, SHA-256 checked, fsync + rename) over %@",
                megabytes, result.streamSeconds, result.gigabytesPerSecond, chunkKib, window, endpoint))
        let streamed = result.streamSeconds - result.finalSyncSeconds
        print(
            String(
                format: "  of which the last chunk's fsync + rename: %.3f s; before it: %.3f s = %.2f GB/s",
                result.finalSyncSeconds,
                streamed, Double(result.bytes) / max(streamed, 1e-9) / 1e9))
        let gigabytes = Double(result.bytes) / 1e9
        print(
            String(
                format:
                    "  CPU while streaming (both ends, all threads): %.3f s = %.2f core-seconds per GB; at that cost %d cores stream at most %.2f GB/s",
                result.streamCPUSeconds, result.streamCPUSeconds / gigabytes,
                ProcessInfo.processInfo.activeProcessorCount,
                Double(ProcessInfo.processInfo.activeProcessorCount) * gigabytes / max(result.streamCPUSeconds, 1e-9)))
        print(
            String(
                format:
                    "metrics → ledger → ack: median %.2f ms, p99 %.2f ms, max %.2f ms over %d reports (SQLite WAL, synchronous=FULL)",
                result.metricsMedianMs, result.metricsP99Ms, result.metricsMaxMs, reports))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(encoder.encode(result)), to: json)
        }
        return result
    }
}
