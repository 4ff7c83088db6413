// SlurmCommand: `ablate slurm submit`, the worker job-array template handed to sbatch with the coordinator's settings.
import ArgumentParser
import Foundation
import WireProtocol

/// `ablate slurm`: Slurm helpers.
struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Start workers from a Slurm cluster.",
        subcommands: [SlurmSubmitCommand.self])
}

/// Submits `deploy/slurm/ablate-workers.sbatch` (built in, or `--template`) as a job array of `--workers` tasks; the
/// template's settings travel in the environment sbatch passes on (ABLATE, ABLATE_COORDINATOR, ABLATE_KEYS, …).
struct SlurmSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job array of workers (one per allocated GPU, each task) against a running coordinator.",
        discussion: """
            Worker options after `--` are passed to every worker (e.g. -- --checkpoint-interval 0); they must not \
            contain spaces. Prints the job id.
            """)

    @Option(help: "Array tasks to submit (each starts one worker per GPU it is given, or one CPU worker).")
    var workers: Int
    @Option(name: [.short, .long], help: "The coordinator's endpoint as the workers reach it, e.g. tcp://HOST:5555.")
    var connect: String
    @Option(
        help: ArgumentHelp(
            "Directory with worker.key (mode 0600) and coordinator.pub, readable on the compute nodes.",
            valueName: "DIR"))
    var keys: String
    @Option(help: "GRES per task, e.g. gpu:1 (default: the template's).") var gres: String?
    @Option(help: "CPUs per task (default: the template's).") var cpusPerTask: Int?
    @Option(help: "Time limit per task, e.g. 12:00:00 (default: the template's).") var time: String?
    @Option(help: "Partition (default: the cluster's).") var partition: String?
    @Option(help: "Where each task's work directories go (default: $TMPDIR/ablate-JOBID on the node).") var work:
        String?
    @Option(help: "Seconds a stop (scancel, preemption) may take to release the cells (default 20).") var stopTimeout:
        Double?
    @Option(help: "Seconds without a cell after which a worker leaves (default 300).") var exitWhenIdle: Double?
    @Option(help: "The ablate binary on the compute nodes (default: this one).") var ablate: String?
    @Option(
        help: ArgumentHelp("A job script to submit instead of the built-in template.", valueName: "FILE"))
    var template: String?
    @Argument(parsing: .postTerminator, help: "Options for every worker, after --.") var workerOptions: [String] = []

    func validate() throws {
        guard (1...10_000).contains(workers) else { throw ValidationError("--workers must be 1 … 10000") }
        try EndpointSyntax.check(connect, option: "--connect", bind: false)
        if let cpusPerTask, cpusPerTask < 1 { throw ValidationError("--cpus-per-task must be at least 1") }
        if let stopTimeout, !(stopTimeout >= 0 && stopTimeout.isFinite) {
            throw ValidationError("--stop-timeout must be a number of seconds ≥ 0")
        }
        if let exitWhenIdle, !(exitWhenIdle > 0 && exitWhenIdle.isFinite) {
            throw ValidationError("--exit-when-idle must be a number of seconds > 0")
        }
        for option in workerOptions where option.isEmpty || option.contains(where: \.isWhitespace) {
            throw ValidationError("worker option '\(option)' is empty or holds a space (the template splits on spaces)")
        }
    }

    func run() throws {
        let keysDirectory = URL(fileURLWithPath: keys).standardizedFileURL.path
        // The keys are checked here, where a mistake is one line, rather than in every task's output.
        _ = try CurveClientKeys.load(
            secretKeyFile: "\(keysDirectory)/worker.key", serverPublicKeyFile: "\(keysDirectory)/coordinator.pub")
        let script: Data
        if let template {
            guard let data = FileManager.default.contents(atPath: template) else {
                throw RunFailure(message: "--template \(template): cannot read it")
            }
            script = data
        } else {
            script = Data(SlurmTemplate.text.utf8)
        }
        guard let sbatch = Self.onPath("sbatch") else {
            throw RunFailure(message: "sbatch is not on PATH: run this where Slurm's commands are (a login node)")
        }
        var arguments = ["--parsable", "--array=0-\(workers - 1)"]
        if let gres { arguments.append("--gres=\(gres)") }
        if let cpusPerTask { arguments.append("--cpus-per-task=\(cpusPerTask)") }
        if let time { arguments.append("--time=\(time)") }
        if let partition { arguments.append("--partition=\(partition)") }
        var environment = ProcessInfo.processInfo.environment
        environment["ABLATE"] = ablate ?? ownExecutablePath
        environment["ABLATE_COORDINATOR"] = connect
        environment["ABLATE_KEYS"] = keysDirectory
        environment["ABLATE_WORK"] = work
        environment["ABLATE_STOP_TIMEOUT"] = stopTimeout.map { "\($0)" }
        environment["ABLATE_EXIT_WHEN_IDLE"] = exitWhenIdle.map { "\($0)" }
        environment["ABLATE_WORKER_ARGS"] = workerOptions.isEmpty ? nil : workerOptions.joined(separator: " ")
        let result = try Self.run(sbatch, arguments, input: script, environment: environment)
        let firstError =
            result.stderr.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map(String.init) ?? "no message"
        guard result.status == 0 else {
            throw RunFailure(message: "sbatch failed (exit \(result.status)): \(PrintableText.oneLine(firstError))")
        }
        // --parsable prints "JOBID" or "JOBID;CLUSTER".
        let job = result.stdout.split(separator: "\n").first.map { String($0.split(separator: ";")[0]) } ?? ""
        guard !job.isEmpty, job.allSatisfy(\.isNumber) else {
            throw RunFailure(message: "sbatch printed no job id: \(PrintableText.oneLine(result.stdout, limit: 200))")
        }
        emit(
            "submitted job \(job): \(workers) task(s) of workers against \(connect) (watch: squeue -j \(job); stop: scancel \(job))"
        )
    }

    /// The first executable `name` in PATH's directories.
    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `input` on its standard input; returns its status and output.
    static func run(_ executable: String, _ arguments: [String], input: Data, environment: [String: String]) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw RunFailure(message: "cannot run \(executable): \(error.localizedDescription)")
        }
        // Reading both pipes on threads of their own: a large output cannot block the writer.
        let collected = OutputCollector()
        let readers = [stdout, stderr].enumerated().map { index, pipe in
            Thread { collected.set(index, pipe.fileHandleForReading.readDataToEndOfFile()) }
        }
        for reader in readers { reader.start() }
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        collected.waitForBoth()
        return (
            process.terminationStatus, String(decoding: collected.data(0), as: UTF8.self),
            String(decoding: collected.data(1), as: UTF8.self)
        )
    }
}

/// The two outputs of a child, filled by reader threads.
private final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var outputs: [Int: Data] = [:]

    func set(_ index: Int, _ data: Data) {
        condition.lock()
        outputs[index] = data
        condition.broadcast()
        condition.unlock()
    }

    func waitForBoth() {
        condition.lock()
        while outputs.count < 2 { condition.wait() }
        condition.unlock()
    }

    func data(_ index: Int) -> Data {
        condition.lock()
        defer { condition.unlock() }
        return outputs[index] ?? Data()
    }
}
