// WorkerCommand: `ablate worker`, train cells assigned by a coordinator and stream their results back.
import AblateSupport
import ArgumentParser
import Foundation
import WorkerKit

/// Connects to a coordinator and trains what it assigns, one job per slot.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Connect to a coordinator, fetch artifacts, train assigned cells and stream metrics and checkpoints back.")

    @Option(help: "Coordinator endpoint, e.g. tcp://coordinator:5555.") var connect: String
    @Option(name: .customLong("work-dir"), help: "Working directory (artifact cache, runs, outbox).") var workDir: String
    @Option(help: "Worker name (default: HOST-gpuIDX with --gpu, else HOST-PID).") var name: String?
    @Option(help: "OpenBLAS threads per job.") var threads = 1
    @Option(help: "GPU index this worker owns (reported to the coordinator).") var gpu: Int?
    @Option(help: "Jobs run at once.") var slots = 1
    @Option(name: .customLong("cache-dir"), help: "Frozen-prefix cache directory (default WORK_DIR/cache).") var cacheDir: String?
    @Option(name: .customLong("stop-timeout"), help: "Seconds a stop (SIGTERM) may take to flush results and release the running cells.") var stopTimeout = 30.0
    @OptionGroup var curve: CurveClientOptions

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1") }
        guard stopTimeout >= 0 else { throw ValidationError("--stop-timeout must not be negative") }
    }

    func run() throws {
        let host = ProcessInfo.processInfo.hostName
        var options = WorkerOptions(endpoint: connect, name: name ?? (gpu.map { "\(host)-gpu\($0)" } ?? "\(host)-\(getpid())"), workDirectory: workDir)
        options.threads = threads
        options.gpu = gpu
        options.slots = slots
        options.codeVersion = AblateVersion.string
        options.cacheDirectory = cacheDir
        options.curve = try curve.keys()
        options.stopTimeout = stopTimeout
        let stop = StopSignal()
        let notifier = SystemdNotifier()
        let agent = try WorkerAgent(options: options, log: { emit("[\(options.name)] \($0)") })
        var announced = false
        agent.onTick = { [connect] activity in
            let status = ServiceStatus.worker(connected: activity.connected, endpoint: connect, jobs: activity.jobs)
            if activity.connected, !announced {
                announced = true
                notifier.ready(status: status)
            }
            notifier.tick(status: status)
        }
        emit("[\(options.name)] connecting to \(connect)\(options.curve == nil ? "" : " (CURVE)")")
        try agent.run(shouldStop: {
            guard stop.isRaised else { return false }
            notifier.stopping(status: "stopping: flushing and releasing cells")
            return true
        })
    }
}
