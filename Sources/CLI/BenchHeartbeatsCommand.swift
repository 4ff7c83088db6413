// BenchHeartbeatsCommand: `ablate bench heartbeats`, a real coordinator process's CPU with many simulated workers.
import AblateBench
import AblateSupport
import ArgumentParser
import CoordinatorKit
import DatasetKit
import Foundation
import WireProtocol

/// Starts `ablate coordinator` as a child process on a small sweep, connects N simulated workers that heartbeat
/// at the coordinator's interval, and reads the child's CPU time from `/proc/PID/stat` over the measured window.
struct BenchHeartbeatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeats", abstract: "A coordinator's CPU share with N simulated workers heartbeating.")

    @Option(help: "Simulated workers.") var workers = 256
    @Option(help: "Measured seconds (after every worker is welcomed and a settling second).") var seconds: Double = 30
    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval in milliseconds.") var heartbeatMs = 1000
    @Option(help: "Scratch directory (removed afterwards).") var directory = "/tmp/ablate-bench-heartbeats"
    @Option(help: "Write the results as JSON here.") var json: String?

    struct Result: Codable {
        var workers: Int
        var heartbeatMs: Int
        var seconds: Double
        var coordinatorCPUSeconds: Double
        var coordinatorCorePercent: Double
        var heartbeatsSent: Int
        var messagesReceived: Int
        var disconnects: Int
    }

    func validate() throws {
        guard workers >= 1, seconds > 0, heartbeatMs >= 10 else {
            throw ValidationError("--workers ≥ 1, --seconds > 0 and --heartbeat-ms ≥ 10")
        }
    }

    func run() throws {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sweepPath = try writeSweep()
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let coordinator = try startCoordinator(sweepPath: sweepPath, endpoint: endpoint)
        defer {
            if coordinator.isRunning { coordinator.terminate() }
            coordinator.waitUntilExit()
        }
        let simulator = try HeartbeatSimulator(endpoint: endpoint, workers: workers, heartbeatMs: heartbeatMs)
        try simulator.run(seconds: 60, untilWelcomed: true)
        guard simulator.allWelcomed else {
            throw RunFailure(
                message:
                    "only \(simulator.counts.welcomed) of \(workers) simulated workers were welcomed within 60 s (log: \(directory)/coordinator.log)"
            )
        }
        try simulator.run(seconds: 1)
        let before = try cpuSeconds(coordinator.processIdentifier)
        let sentBefore = simulator.counts
        let start = Date()
        try simulator.run(seconds: seconds)
        let elapsed = Date().timeIntervalSince(start)
        let cpu = try cpuSeconds(coordinator.processIdentifier) - before
        guard coordinator.isRunning else {
            throw RunFailure(
                message: "the coordinator exited during the measurement (log: \(directory)/coordinator.log)")
        }
        let result = Result(
            workers: workers, heartbeatMs: heartbeatMs, seconds: elapsed, coordinatorCPUSeconds: cpu,
            coordinatorCorePercent: 100 * cpu / elapsed,
            heartbeatsSent: simulator.counts.heartbeatsSent - sentBefore.heartbeatsSent,
            messagesReceived: simulator.counts.messagesReceived - sentBefore.messagesReceived,
            disconnects: simulator.counts.disconnects)
        print(
            String(
                format:
                    "%d simulated workers, heartbeat %d ms: coordinator used %.2f s of CPU in %.1f s = %.1f %% of one core",
                workers, heartbeatMs, cpu, elapsed, result.coordinatorCorePercent))
        print(
            "  heartbeats sent \(result.heartbeatsSent), messages received \(result.messagesReceived), disconnects \(result.disconnects)"
        )
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(encoder.encode(result)), to: json)
        }
    }

    /// A tiny dataset and a one-job sweep: the job is assigned to one simulated worker, which never runs it.
    private func writeSweep() throws -> String {
        let datasetPath = "\(directory)/tiny.h5"
        let dataset = SyntheticGenerator(blockSize: 16).dataset(train: 256, val: 128, seed: 1)
        _ = try DatasetWriter.write(dataset, to: datasetPath, overwrite: true)
        let sweepPath = "\(directory)/sweep.yaml"
        let text = """
            name: heartbeat-bench
            dataset: \(datasetPath)
            stage1: {epochs: 1, width: 16, seed: 1}
            baseline: a
            seeds: [1]
            train: {width: 16, epochs: 1}
            variants:
              a: {loss: cb_focal}

            """
        try AtomicFile.write(Array(text.utf8), to: sweepPath)
        return sweepPath
    }

    private func freePort() throws -> Int {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .router)
        defer { socket.close() }
        try socket.bind("tcp://127.0.0.1:*")
        let bound = try socket.lastEndpoint
        guard let port = bound.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw RunFailure(message: "cannot read a port from \(bound)")
        }
        return port
    }

    private func startCoordinator(sweepPath: String, endpoint: String) throws -> Process {
        let logPath = "\(directory)/coordinator.log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else {
            throw RunFailure(message: "\(logPath): cannot create")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ownExecutablePath)
        process.arguments = [
            "coordinator", "--sweep", sweepPath, "--state", "\(directory)/state", "--bind", endpoint,
            "--heartbeat-ms", "\(heartbeatMs)", "--keep-serving",
        ]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    /// User + system CPU seconds of a process, all its threads, from `/proc/PID/stat` (fields 14 and 15).
    private func cpuSeconds(_ pid: Int32) throws -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { throw RunFailure(message: "/proc/\(pid)/stat: cannot read") }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: field 3 (state) is fields[0], so utime (14) and stime (15) are fields[11] and [12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw RunFailure(message: "/proc/\(pid)/stat: unexpected format")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
