// CommandJob: one attempt of a user's command on its own thread — start, watch its output, end it, report.
import AblateSupport
import Foundation
import Logging
import RunSpec
import TransferKit
import WireProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a command attempt needs (docs/bring-your-own-trainer.md).
public struct CommandJobSpec: Sendable {
    public var assign: Assign
    /// The command with the coordinator's placeholders filled; `{out}` and `{gpu}` are filled here.
    public var argv: [String]
    /// A fresh directory of this attempt: the command's `out/` and `log.txt` go there.
    public var runDirectory: String
    /// Where completed files are copied under their SHA-256 (stable snapshots for streaming).
    public var outboxDirectory: String
    /// The GPU the job is pinned to (`CUDA_VISIBLE_DEVICES`); nil leaves the worker's environment as it is.
    public var gpu: Int?
    /// The dataset in the artifact cache; nil for a sweep without one.
    public var datasetPath: String?
    public var stage1Path: String?
    /// The cell's inputs (`ABLATE_INPUT_<NAME>`), each fetched into the artifact cache.
    public var inputs: [CommandInput]
    /// The checkpoint to resume from (copied to `resume-<name>` in the run directory, `resumeCopyPath`).
    public var resumePath: String?
    /// The `ablate` executable that runs `exec-guard` around the command, so that the command dies with this
    /// process; nil starts the command directly in its own process group (no protection against a killed worker).
    public var execGuard: String?
    public var timeoutSeconds: Double?
    /// The files streamed back: ASSIGN's `checkpoints` (else `OutputWatcher.defaultPatterns`) and its resume file.
    public var patterns: [String]
    /// Seconds between polls of the output directory.
    public var pollInterval = 0.2
    /// Seconds a terminated command gets between SIGTERM and SIGKILL.
    public var graceSeconds = 5.0
    /// The worker's environment the command inherits (before the `ABLATE_*` variables).
    public var baseEnvironment = ProcessInfo.processInfo.environment

    public init(
        assign: Assign, argv: [String], runDirectory: String, outboxDirectory: String, gpu: Int?, datasetPath: String?,
        stage1Path: String?, resumePath: String?, execGuard: String?, timeoutSeconds: Double?,
        inputs: [CommandInput] = []
    ) {
        self.inputs = inputs
        self.assign = assign
        self.argv = argv
        self.runDirectory = runDirectory
        self.outboxDirectory = outboxDirectory
        self.gpu = gpu
        self.datasetPath = datasetPath
        self.stage1Path = stage1Path
        self.resumePath = resumePath
        self.execGuard = execGuard
        self.timeoutSeconds = timeoutSeconds
        let resumeFile = assign.resumeFile ?? ExecutionField.defaultResumeFile
        patterns = (assign.checkpoints ?? OutputWatcher.defaultPatterns) + [resumeFile]
    }

    /// `$ABLATE_OUT`.
    public var outputDirectory: String { "\(runDirectory)/out" }
    /// The command's stdout and stderr.
    public var logPath: String { "\(runDirectory)/log.txt" }
    /// Where `exec-guard` writes the command's pid (its process group id).
    public var pidPath: String { "\(runDirectory)/command.pid" }
    /// `$ABLATE_OUT/params.json`: the cell's params (`{}` for none).
    public var paramsPath: String { "\(outputDirectory)/params.json" }
    /// Where the resume checkpoint is copied (`ABLATE_RESUME`): `resume-<name of the resume file>`, e.g.
    /// `resume-last.h5`.
    public var resumeCopyPath: String {
        "\(runDirectory)/resume-\(ExecutionField.baseName(assign.resumeFile ?? ExecutionField.defaultResumeFile))"
    }
    /// The directory the command runs in: ASSIGN's `workdir`, a relative one taken from the worker's working
    /// directory; nil (none given) keeps the worker's.
    public var commandDirectory: String? {
        guard let workdir = assign.workdir else { return nil }
        if workdir.hasPrefix("/") { return workdir }
        return FileManager.default.currentDirectoryPath + "/" + workdir
    }

    /// The cell's params from ASSIGN's `params` (none when absent).
    /// - Throws: `CommandParamsError` for a text that is not a params object (ASSIGN's check lets none through).
    public func params() throws(CommandParamsError) -> CommandParams {
        guard let text = assign.params else { return .none }
        return try CommandParams(json: text)
    }
}

/// Runs command attempts: a thread per attempt posts the same `WorkerEvent`s as the native trainer.
public enum CommandJob {
    /// Starts the attempt's thread.
    public static func start(_ spec: CommandJobSpec, inbox: WorkerInbox, cancel: CancelFlag) {
        let thread = Thread { run(spec, inbox: inbox, cancel: cancel) }
        thread.name = "ablate-command-\(spec.assign.cell.prefix(8))"
        thread.start()
    }

    /// The command's argv with `{out}` and `{gpu}` filled (`{gpu}` is empty without a GPU).
    public static func argv(_ spec: CommandJobSpec) -> [String] {
        spec.argv.map { fillWorkerPlaceholders($0, spec) }
    }

    /// `text` with `{out}` and `{gpu}` filled; any other brace is left as it is.
    static func fillWorkerPlaceholders(_ text: String, _ spec: CommandJobSpec) -> String {
        CommandPlaceholderText.substitute(text) { name in
            switch name {
            case "out": spec.outputDirectory
            case "gpu": spec.gpu.map(String.init) ?? ""
            default: nil
            }
        }
    }

    /// The command's environment: the worker's, `CUDA_VISIBLE_DEVICES` when pinned, and the `ABLATE_*` variables
    /// (`ABLATE_PARAM_<NAME>` for each param, its placeholder text; the worker's own `ABLATE_PARAM_*` are removed).
    public static func environment(_ spec: CommandJobSpec) -> [String: String] {
        var environment = spec.baseEnvironment
        let assign = spec.assign
        // The cell's `env` first: ASSIGN's check keeps its names off the variables set below.
        for (name, value) in assign.env ?? [:] { environment[name] = fillWorkerPlaceholders(value, spec) }
        environment["ABLATE_CELL"] = assign.cell
        environment["ABLATE_ATTEMPT"] = String(assign.attempt)
        environment["ABLATE_SEED"] = String(assign.seed)
        environment["ABLATE_VARIANT"] = assign.variant
        environment["ABLATE_OUT"] = spec.outputDirectory
        environment["ABLATE_DATASET"] = spec.datasetPath
        environment["ABLATE_CONFIG"] = assign.config
        environment["ABLATE_STAGE1"] = spec.stage1Path
        environment["ABLATE_RESUME"] = spec.resumePath == nil ? nil : spec.resumeCopyPath
        if let gpu = spec.gpu {
            environment["CUDA_VISIBLE_DEVICES"] = String(gpu)
            environment["ABLATE_GPU"] = String(gpu)
        }
        // Exactly the cell's params and inputs: none inherited from the worker's own environment.
        for name in environment.keys
        where name.hasPrefix("ABLATE_PARAM_") || name.hasPrefix(InputsField.environmentPrefix) {
            environment[name] = nil
        }
        for input in spec.inputs { environment[input.ref.environmentName] = input.path }
        for (name, value) in ((try? spec.params()) ?? .none).placeholderValues {
            environment[CommandParams.environmentName(name)] = value
        }
        return environment
    }

    static func run(_ spec: CommandJobSpec, inbox: WorkerInbox, cancel: CancelFlag) {
        let cell = spec.assign.cell
        let attempt = spec.assign.attempt
        let tag = "\(spec.assign.variant)/seed-\(spec.assign.seed)"
        let process: RunningCommand
        let params: CommandParams
        do {
            params = try spec.params()
        } catch {
            inbox.post(
                .failed(
                    cell: cell, attempt: attempt, reason: "the cell's params cannot be read: \(error)",
                    deterministic: true))
            return
        }
        do {
            try prepare(spec, params: params)
            if let problem = CommandInput.materialiseAll(spec.inputs) {
                try? AtomicFile.write(Array((problem + "\n").utf8), to: spec.logPath)
                inbox.post(.output(cell: cell, attempt: attempt, lines: [problem]))
                inbox.post(.failed(cell: cell, attempt: attempt, reason: problem, deterministic: false))
                return
            }
            if let problem = missingDirectory(spec) {
                // Written to the cell's log like a command that cannot start; another host may have the directory.
                try? AtomicFile.write(Array((problem + "\n").utf8), to: spec.logPath)
                inbox.post(.output(cell: cell, attempt: attempt, lines: [problem]))
                inbox.post(.failed(cell: cell, attempt: attempt, reason: problem, deterministic: false))
                return
            }
            process = try RunningCommand.start(spec, argv: argv(spec), environment: environment(spec))
        } catch {
            inbox.post(
                .failed(
                    cell: cell, attempt: attempt, reason: "cannot start the command: \(error)", deterministic: false))
            return
        }
        inbox.post(.log("[\(tag)] started: \(argv(spec).joined(separator: " ")) (pid \(process.pid))"))
        var session = Session(spec: spec, inbox: inbox)
        let started = Date()
        while true {
            let exit = process.poll()
            let now = Date().timeIntervalSince(started)
            if let exit {
                session.step(now: now, final: true)
                session.finish(exit: exit, seconds: now)
                return
            }
            session.step(now: now, final: false)
            if let problem = session.contractError {
                process.terminate(grace: spec.graceSeconds)
                session.step(now: now, final: true, watch: false)
                inbox.post(.failed(cell: cell, attempt: attempt, reason: problem, deterministic: true))
                return
            }
            if cancel.isSet {
                process.terminate(grace: spec.graceSeconds)
                inbox.post(.cancelled(cell: cell, attempt: attempt))
                return
            }
            if let limit = spec.timeoutSeconds, now > limit {
                process.terminate(grace: spec.graceSeconds)
                // Files that were already complete still count (a `last.h5` lets the next attempt resume).
                session.step(now: now, final: false)
                session.step(now: now, final: true, watch: false)
                let reason = "timed out after \(Self.seconds(limit)) s; last output:\n\(session.output.tailText)"
                inbox.post(.failed(cell: cell, attempt: attempt, reason: reason, deterministic: false))
                return
            }
            Thread.sleep(forTimeInterval: spec.pollInterval)
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// A fresh run directory with an empty `out/`, and the resume checkpoint copied in.
    private static func prepare(_ spec: CommandJobSpec, params: CommandParams) throws {
        let files = FileManager.default
        try? files.removeItem(atPath: spec.runDirectory)
        try files.createDirectory(atPath: spec.outputDirectory, withIntermediateDirectories: true)
        try files.createDirectory(atPath: spec.outboxDirectory, withIntermediateDirectories: true)
        try AtomicFile.write(Array((params.canonicalJSON + "\n").utf8), to: spec.paramsPath)
        if let resume = spec.resumePath {
            try files.copyItem(atPath: resume, toPath: spec.resumeCopyPath)
        }
    }

    /// Why the command cannot run in its `workdir` (missing, or not a directory); nil when it can, or none is given.
    static func missingDirectory(_ spec: CommandJobSpec) -> String? {
        guard let directory = spec.commandDirectory, let given = spec.assign.workdir else { return nil }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
        guard !exists || !isDirectory.boolValue else { return nil }
        let shown = PrintableText.oneLine(given, limit: 1100)
        return "cannot start the command: its workdir '\(shown)' (\(PrintableText.oneLine(directory, limit: 2200))) "
            + (exists ? "is not a directory" : "does not exist") + " on this worker"
    }

    /// Copies a completed file into the outbox under its SHA-256 (the command may rewrite the original at once).
    static func snapshot(_ file: CompletedFile, epoch: Int, outbox: String) throws -> OutgoingFile {
        let temporary = "\(outbox)/.copy-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.copyItem(atPath: file.path, toPath: temporary)
        do {
            let ref = try ArtifactRef.ofFile(temporary, name: file.name)
            let target = "\(outbox)/\(ref.sha256)"
            if FileManager.default.fileExists(atPath: target) {
                try FileManager.default.removeItem(atPath: temporary)
            } else if rename(temporary, target) != 0 {
                throw ProcessGroupError("\(target): cannot move a snapshot into place (errno \(errno))")
            }
            return OutgoingFile(ref: ref, epoch: epoch, path: target)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}

/// The watching side of one attempt: metrics lines and files to events, log lines to batches, the final report.
private struct Session {
    let spec: CommandJobSpec
    let inbox: WorkerInbox
    var watcher: OutputWatcher
    var output: CommandOutput
    var lines: [MetricsLine] = []
    var contractError: String?

    init(spec: CommandJobSpec, inbox: WorkerInbox) {
        self.spec = spec
        self.inbox = inbox
        watcher = OutputWatcher(
            directory: spec.outputDirectory, patterns: spec.patterns,
            metric: spec.assign.metric ?? MetricCatalog.defaultName)
        output = CommandOutput(path: spec.logPath)
    }

    private var cell: String { spec.assign.cell }
    private var attempt: Int { spec.assign.attempt }
    private var lastEpoch: Int { lines.last?.epoch ?? 0 }

    /// One poll: log lines due, then (when `watch`) new metrics lines (each an epoch event) and newly complete
    /// files. `final` takes everything left (the command exited by itself).
    mutating func step(now: Double, final: Bool, watch: Bool = true) {
        output.read(final: final)
        if let batch = output.takeBatch(now: now, force: final || !watch) {
            inbox.post(.output(cell: cell, attempt: attempt, lines: batch))
        }
        guard watch, contractError == nil else { return }
        do {
            let found = try watcher.poll(final: final)
            for line in found.metrics {
                lines.append(line)
                let report = MetricsReport(
                    cell: cell, attempt: attempt, seq: line.line, epoch: line.epoch, valMacroF1: line.valMacroF1,
                    valLoss: line.valLoss, trainLoss: line.trainLoss, seconds: line.seconds, record: line.record)
                inbox.post(.epoch(cell: cell, attempt: attempt, report: report, files: []))
            }
            var files: [OutgoingFile] = []
            for file in found.files {
                do {
                    files.append(try CommandJob.snapshot(file, epoch: lastEpoch, outbox: spec.outboxDirectory))
                } catch {
                    inbox.post(
                        .log(
                            "[\(spec.assign.variant)/seed-\(spec.assign.seed)] cannot snapshot \(file.relativePath): \(error)",
                            level: .error))
                }
            }
            if !files.isEmpty { inbox.post(.files(cell: cell, attempt: attempt, files: files)) }
        } catch {
            contractError = "\(error) (see docs/bring-your-own-trainer.md)"
        }
    }

    /// The command exited: DONE with a summary for exit 0 and at least one epoch, FAILED otherwise.
    func finish(exit: ExitStatus, seconds: Double) {
        if let contractError {
            inbox.post(.failed(cell: cell, attempt: attempt, reason: contractError, deterministic: true))
            return
        }
        guard exit == .exited(0) else {
            inbox.post(
                .failed(
                    cell: cell, attempt: attempt,
                    reason: "the command ended with \(exit); last output:\n\(output.tailText)", deterministic: false))
            return
        }
        guard let summary = CommandSummary.json(lines: lines, command: CommandJob.argv(spec), seconds: seconds) else {
            let reason =
                "the command exited 0 without writing a line to $ABLATE_OUT/\(OutputWatcher.metricsFile); last output:\n\(output.tailText)"
            inbox.post(.failed(cell: cell, attempt: attempt, reason: reason, deterministic: true))
            return
        }
        inbox.post(.finished(cell: cell, attempt: attempt, summary: summary))
    }
}

/// The started process: the command itself (in its own group) or `exec-guard` around it.
private struct RunningCommand {
    let pid: pid_t
    let guarded: Bool
    let pidPath: String

    static func start(_ spec: CommandJobSpec, argv: [String], environment: [String: String]) throws -> RunningCommand {
        if let guardPath = spec.execGuard {
            let line =
                [
                    guardPath, "exec-guard", "--parent", String(getpid()), "--pid-file", spec.pidPath,
                    "--grace-s", CommandJob.seconds(spec.graceSeconds),
                ] + (spec.commandDirectory.map { ["--chdir", $0] } ?? []) + ["--"] + argv
            return RunningCommand(
                pid: try ProcessGroup.spawn(line, environment: environment, output: spec.logPath),
                guarded: true, pidPath: spec.pidPath)
        }
        return RunningCommand(
            pid: try ProcessGroup.spawn(
                argv, environment: environment, output: spec.logPath, directory: spec.commandDirectory),
            guarded: false, pidPath: spec.pidPath)
    }

    func poll() -> ExitStatus? { ProcessGroup.poll(pid) }

    /// Ends the command's whole process group (through the guard when there is one).
    func terminate(grace: Double) {
        guard guarded else {
            ProcessGroup.terminate(group: pid, leader: pid, grace: grace)
            return
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace + 2)
        while Date() < deadline {
            if ProcessGroup.poll(pid) != nil { return }
            usleep(20_000)
        }
        // The guard did not end in time: end it and the command's group directly.
        kill(pid, SIGKILL)
        _ = ProcessGroup.waitBlocking(pid)
        if let text = try? String(contentsOfFile: pidPath, encoding: .utf8),
            let group = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            ProcessGroup.signal(group: group, SIGKILL)
        }
    }
}
