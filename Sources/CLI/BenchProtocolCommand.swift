// BenchProtocolCommand: `ablate bench protocol`, checkpoint streaming and metrics latency over loopback.
import ArgumentParser
import CoordinatorKit
import Foundation

/// Streams a file through the real transfer path and times metrics into the ledger; prints what it measured.
struct BenchProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protocol", abstract: "Checkpoint streaming throughput and metrics-to-ledger latency over a loopback socket pair.")

    @Option(help: "Size of the streamed file in MiB.") var megabytes = 512
    @Option(help: "Metrics reports to time.") var reports = 200
    @Option(help: "Endpoint to bind (tcp://127.0.0.1:* or ipc://PATH).") var endpoint = "tcp://127.0.0.1:*"
    @Option(help: "Scratch directory (removed afterwards); the coordinator's state directory is inside it.") var directory = "/tmp/ablate-bench-protocol"
    @Option(help: "Write the results as JSON here.") var json: String?

    func run() throws {
        var benchmark = ProtocolBenchmark()
        benchmark.megabytes = megabytes
        benchmark.metricsReports = reports
        benchmark.endpoint = endpoint
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try benchmark.run(directory: directory)
        print(String(format: "checkpoint streaming: %d MiB in %.3f s = %.2f GB/s (256 KiB chunks, window 4, SHA-256 checked, fsync + rename) over %@",
                     megabytes, result.streamSeconds, result.gigabytesPerSecond, endpoint))
        let streamed = result.streamSeconds - result.finalSyncSeconds
        print(String(format: "  of which the last chunk's fsync + rename: %.3f s; before it: %.3f s = %.2f GB/s", result.finalSyncSeconds,
                     streamed, Double(result.bytes) / max(streamed, 1e-9) / 1e9))
        let gigabytes = Double(result.bytes) / 1e9
        print(String(format: "  CPU while streaming (both ends, all threads): %.3f s = %.2f core-seconds per GB; at that cost %d cores stream at most %.2f GB/s",
                     result.streamCPUSeconds, result.streamCPUSeconds / gigabytes, ProcessInfo.processInfo.activeProcessorCount,
                     Double(ProcessInfo.processInfo.activeProcessorCount) * gigabytes / max(result.streamCPUSeconds, 1e-9)))
        print(String(format: "metrics → ledger → ack: median %.2f ms, p99 %.2f ms, max %.2f ms over %d reports (SQLite WAL, synchronous=FULL)",
                     result.metricsMedianMs, result.metricsP99Ms, result.metricsMaxMs, reports))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: json), options: .atomic)
        }
    }
}
