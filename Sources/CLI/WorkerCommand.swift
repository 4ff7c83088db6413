// WorkerCommand: `ablate worker`, train cells assigned by a coordinator and stream their results back.
import AblateSupport
import ArgumentParser
import Foundation
import Logging
import WireProtocol
import WorkerKit

/// Connects to a coordinator and trains what it assigns, one job per slot.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract:
            "Connect to a coordinator, fetch artifacts, train assigned cells and stream metrics and checkpoints back.")

    @Option(help: "Coordinator endpoint, e.g. tcp://coordinator:5555.") var connect: String
    @Option(name: .customLong("work-dir"), help: "Working directory (artifact cache, runs, outbox).") var workDir:
        String
    @Option(help: "Worker name (default: HOST-gpuIDX with --gpu, else HOST-PID).") var name: String?
    @Option(help: "A tag shown next to the name by 'ablate status', e.g. slurm:1234_5 (printable ASCII, ≤ 64 bytes).")
    var label: String?
    @Option(parsing: .unconditional, help: "Compute threads per job (results do not depend on it).") var threads = 1
    @Option(help: "GPU index this worker owns: its command jobs run with CUDA_VISIBLE_DEVICES set to it.") var gpu: Int?
    @Option(help: "GPU indices, e.g. 0,1,2,3: one slot per GPU (see --slots-per-gpu), each command job pinned to one.")
    var gpus: String?
    @Option(
        name: .customLong("slots-per-gpu"), parsing: .unconditional,
        help: "With --gpus: command jobs per GPU (default 1); each job goes to the least-loaded GPU.")
    var slotsPerGPU: Int?
    @Option(parsing: .unconditional, help: "Jobs run at once (default 1; with --gpus, GPUs × --slots-per-gpu).")
    var slots: Int?
    @Option(
        name: .customLong("cache-dir"),
        help:
            "The host's cache, shareable by its workers: fetched datasets and checkpoints (artifacts/) and frozen-prefix caches (default WORK_DIR/cache)."
    )
    var cacheDir: String?
    @Option(
        name: .customLong("stop-timeout"),
        help: "Seconds a stop (SIGTERM) may take to flush results and release the running cells.") var stopTimeout =
        30.0
    @Option(
        name: .customLong("checkpoint-interval"),
        help:
            "Least seconds between epochs whose checkpoints are streamed (first and last always; metrics every epoch; 0: every epoch)."
    )
    var checkpointInterval = 10.0
    @Flag(
        name: .customLong("exit-when-finished"),
        help:
            "Exit (status 0) once the coordinator says every cell is done or failed, instead of waiting for the next sweep."
    )
    var exitWhenFinished = false
    @Option(
        name: .customLong("exit-when-idle"),
        help: "Exit (status 0) after SECONDS without a job, connected or not (e.g. a Slurm task with no cell left).")
    var exitWhenIdle: Double?
    @OptionGroup var curve: CurveClientOptions
    @OptionGroup var fault: FaultOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var kernelOptions: KernelOptions
    /// Fault injection for the end-to-end tests: flip one byte of the first chunk this worker sends (hidden).
    @Flag(name: .customLong("fault-corrupt-first-chunk"), help: .hidden) var faultCorruptFirstChunk = false

    func validate() throws {
        try EndpointSyntax.check(connect, option: "--connect", bind: false)
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard (1...FieldLimits.maxJobsPerWorker).contains(slots ?? 1) else {
            throw ValidationError("--slots must be 1 … \(FieldLimits.maxJobsPerWorker)")
        }
        if let label, let problem = WorkerLabel.problem(label) {
            throw ValidationError("--label \(problem)")
        }
        if let exitWhenIdle, !(exitWhenIdle > 0 && exitWhenIdle.isFinite) {
            throw ValidationError("--exit-when-idle must be a number of seconds > 0")
        }
        if let gpu, !(0...FieldLimits.maxGPUIndex).contains(gpu) {
            throw ValidationError("--gpu \(gpu): a GPU index is 0 … \(FieldLimits.maxGPUIndex)")
        }
        guard stopTimeout >= 0 else { throw ValidationError("--stop-timeout must not be negative") }
        guard checkpointInterval >= 0, checkpointInterval.isFinite else {
            throw ValidationError("--checkpoint-interval must be a number of seconds ≥ 0")
        }
        if gpus != nil {
            guard gpu == nil else {
                throw ValidationError(
                    "--gpu and --gpus cannot be combined: give --gpus for several GPUs, --gpu for one")
            }
            let list = try gpuList()
            let perGPU = slotsPerGPU ?? 1
            guard perGPU >= 1, list.count * perGPU <= FieldLimits.maxJobsPerWorker else {
                throw ValidationError(
                    "--slots-per-gpu must be at least 1, and GPUs × slots per GPU at most \(FieldLimits.maxJobsPerWorker)"
                )
            }
            if let slots, slots != list.count * perGPU {
                throw ValidationError(
                    "--slots \(slots) differs from the \(list.count * perGPU) slots of --gpus (\(list.count) GPUs × \(perGPU) per GPU); leave --slots out"
                )
            }
        } else if slotsPerGPU != nil {
            throw ValidationError(
                "--slots-per-gpu needs --gpus: give the GPUs to pack, e.g. --gpus 0,1 --slots-per-gpu 2")
        }
    }

    /// `--gpus` as indices: distinct non-negative integers separated by commas.
    func gpuList() throws -> [Int] {
        guard let gpus else { return [] }
        let parts = gpus.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let list = parts.compactMap { Int($0) }.filter { $0 >= 0 }
        guard list.count == parts.count, !list.isEmpty else {
            throw ValidationError("--gpus '\(gpus)': expected GPU indices separated by commas, e.g. 0,1,2,3")
        }
        guard Set(list).count == list.count else { throw ValidationError("--gpus '\(gpus)': an index is given twice") }
        if let problem = ExecutionField.gpusProblem(list) { throw ValidationError("--gpus '\(gpus)': \(problem)") }
        return list
    }

    func run() throws {
        fault.arm()
        logging.apply()
        try kernelOptions.apply()
        let host = ProcessInfo.processInfo.hostName
        let gpuList = try gpuList()
        let defaultName =
            gpuList.isEmpty
            ? (gpu.map { "\(host)-gpu\($0)" } ?? "\(host)-\(getpid())")
            : "\(host)-gpus\(gpuList.map(String.init).joined(separator: "-"))"
        var options = WorkerOptions(endpoint: connect, name: name ?? defaultName, workDirectory: workDir)
        options.threads = threads
        options.gpu = gpu
        options.gpus = gpuList
        options.slotsPerGPU = slotsPerGPU ?? 1
        options.slots = gpuList.isEmpty ? (slots ?? 1) : gpuList.count * options.slotsPerGPU
        options.execGuard = ownExecutablePath
        options.codeVersion = AblateVersion.string
        options.cacheDirectory = cacheDir
        options.curve = try curve.keys()
        options.stopTimeout = stopTimeout
        options.checkpointInterval = checkpointInterval
        options.exitWhenFinished = exitWhenFinished
        options.label = label
        options.exitWhenIdle = exitWhenIdle
        options.corruptFirstChunk = faultCorruptFirstChunk
        try EndpointSyntax.probeConnect(connect, option: "--connect")
        do { try Directories.create(workDir) } catch let error as FileWriteError {
            throw RunFailure(message: "--work-dir \(error)")
        }
        let stop = StopSignal()
        let notifier = SystemdNotifier()
        let agent = try WorkerAgent(options: options)
        var announced = false
        agent.onTick = { [connect] activity in
            let status = ServiceStatus.worker(connected: activity.connected, endpoint: connect, jobs: activity.jobs)
            if activity.connected, !announced {
                announced = true
                notifier.ready(status: status)
            }
            notifier.tick(status: status)
        }
        Logger(label: "worker").info(
            "\(options.name) connecting to \(connect)\(options.curve == nil ? "" : " (CURVE)")")
        try agent.run(shouldStop: {
            guard stop.isRaised else { return false }
            notifier.stopping(status: "stopping: flushing and releasing cells")
            return true
        })
    }
}
