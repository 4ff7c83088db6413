// LocalCommand: `ablate local`, a coordinator and N worker processes on this machine, with live progress.
import AblateLog
import AblateSupport
import ArgumentParser
import CoordinatorKit
import DatasetKit
import Foundation
import Logging
import ReportKit
import RunSpec
import WorkerKit

/// Runs a whole sweep on this machine over loopback: the coordinator in this process, N `ablate worker`
/// processes beside it; shows progress and ends with the verdict table.
struct LocalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Run a sweep on this machine: a coordinator and N workers over loopback, with live progress.",
        discussion:
            "--demo generates a synthetic dataset and runs a small Stage-1 job and the five-loss ablation with 2 seeds."
    )

    @Option(name: [.short, .long], help: "Sweep file (YAML).") var sweep: String?
    @Flag(help: "Generate a synthetic dataset and a demo sweep (five losses × 2 seeds) and run it.") var demo = false
    @Option(name: [.short, .long], parsing: .unconditional, help: "Worker processes.") var workers = 2
    @Option(name: [.short, .long], parsing: .unconditional, help: "Compute threads per worker.") var threads = 1
    @Option(help: "State directory (default ablate-demo with --demo, else ablate-state).") var state: String?
    @OptionGroup var kernelOptions: KernelOptions
    @OptionGroup var dashboard: HTTPOptions
    @OptionGroup var logging: LogOptions

    func validate() throws {
        guard (sweep == nil) == demo else { throw ValidationError("give either --sweep FILE or --demo") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1, got \(workers)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        try dashboard.check()
    }

    func run() throws {
        logging.apply()
        // This process's own lines on standard output; the coordinator loop's and the report's in STATE/logs/coordinator.log.
        let logger = Logger(label: "coordinator")
        let stateDirectory = CoordinatorSetup.absolute(state ?? (demo ? "ablate-demo" : "ablate-state"))
        // Listening first: a port that cannot be bound stops the start before the state directory is touched.
        let http = try dashboard.listen(logger: logger)
        defer { http?.stop() }
        // A start that fails (a bad sweep or file) leaves the state directory as it was.
        let undo = StateDirectoryUndo(stateDirectory)
        let setup: CoordinatorSetup
        do {
            try Directories.create(stateDirectory)
            let sweepPath = demo ? try DemoSweep.prepare(in: "\(stateDirectory)/demo", logger: logger) : (sweep ?? "")
            setup = try CoordinatorSetup.prepare(
                sweepPath: sweepPath, stateDirectory: stateDirectory, settings: CoordinatorSettings(),
                now: Date().timeIntervalSince1970, checkStage1: Checkpoint.checkStage1, logger: logger)
        } catch {
            undo.undo(holdingLock: false)
            throw error
        }
        // Opened at the first line (a start that fails before logging leaves no logs/ directory).
        let coordinatorLog = LogOutput(appendingTo: "\(stateDirectory)/logs/coordinator.log")
        let server: CoordinatorServer
        do {
            server = try CoordinatorServer(
                setup: setup, endpoint: "tcp://127.0.0.1:*",
                makeLogger: { AblateLogging.logger($0, to: coordinatorLog) })
        } catch {
            try? setup.ledger.close()
            undo.undo(holdingLock: true)
            throw error
        }
        http?.startRefreshing(
            stateDirectory: stateDirectory, logger: AblateLogging.logger("dashboard", to: coordinatorLog),
            notes: AdaptiveStatus.lines)
        let stop = StopSignal()
        var children: [Process] = []
        server.onListening = { endpoint in
            do {
                children = try (0..<workers).map {
                    try spawnWorker($0, endpoint: endpoint, stateDirectory: stateDirectory)
                }
                logger.info("coordinator on \(endpoint); \(workers) worker(s) started (logs in \(stateDirectory)/logs)")
            } catch {
                logger.error("cannot start workers: \(error)")
            }
        }
        let display = ProgressDisplay(sweep: setup.sweep.name)
        let refresher = ReportRefresher(
            stateDirectory: stateDirectory, logger: AblateLogging.logger("report", to: coordinatorLog),
            onReport: AdaptiveVerdicts.poster(server.adaptiveMailbox))
        server.onProgress = { scheduler in
            display.update(scheduler)
            refresher.poll { scheduler.finishedCellCount }
        }
        defer { Self.stop(children) }
        do {
            try server.run(untilFinished: true, shouldStop: { stop.isRaised })
        } catch {
            http?.stopRefreshing()
            throw error
        }
        // The dashboard's reader closes before the ledger does (it keeps serving its last snapshot).
        http?.stopRefreshing()
        // The workers have nothing left to do: they stop while the final report is computed.
        for child in children where child.isRunning { child.terminate() }
        display.final(server.state)
        emit("")
        // A background refresh still computing is dropped, not waited for: the final report is built from the
        // finished state anyway, and is the last one written.
        refresher.close()
        emit(FinalReport.text(stateDirectory: stateDirectory, cache: refresher.pairedTests, listFailures: false))
        emit(
            "results: \(stateDirectory)/runs/<variant>/seed-<seed>/ (metrics.jsonl, best.h5, last.h5, summary.json, predictions.h5)"
        )
        if stop.isRaised {
            throw RunFailure(message: "interrupted; run the same command again to resume from \(stateDirectory)")
        }
        let failed = FinalReport.failures(stateDirectory: stateDirectory).count
        if failed > 0 {
            throw RunFailure(
                message:
                    "\(failed) cell\(failed == 1 ? "" : "s") failed (listed above); once the cause is fixed, `ablate retry --state \(stateDirectory) --failed` and this command again run \(failed == 1 ? "it" : "them")"
            )
        }
    }

    /// Stops the worker processes: SIGTERM, sent again each second while one still runs (a SIGTERM that arrives
    /// while a just-started worker is still installing its handler is lost, and a sweep with nothing left to do
    /// ends that early), then SIGKILL after `patience` seconds. A worker holds nothing a kill can corrupt: its
    /// cell is requeued and resumed from its last checkpoint.
    static func stop(_ children: [Process], patience: Double = 30) {
        let deadline = Date().addingTimeInterval(patience)
        while children.contains(where: \.isRunning) {
            guard Date() < deadline else {
                for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
                break
            }
            for child in children where child.isRunning { child.terminate() }
            let retry = Date().addingTimeInterval(1)
            while Date() < retry, children.contains(where: \.isRunning) { Thread.sleep(forTimeInterval: 0.02) }
        }
        for child in children { child.waitUntilExit() }
    }

    private func spawnWorker(_ index: Int, endpoint: String, stateDirectory: String) throws -> Process {
        let logs = "\(stateDirectory)/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let logPath = "\(logs)/worker-\(index).log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw RunFailure(message: "\(logPath): cannot open")
        }
        try log.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ownExecutablePath)
        process.arguments =
            [
                "worker", "--connect", endpoint, "--work-dir", "\(stateDirectory)/workers/local-\(index)",
                "--name", "local-\(index)", "--threads", "\(threads)", "--cache-dir", "\(stateDirectory)/workers/cache",
                "--log-level", logging.logLevel.rawValue,
            ] + kernelOptions.arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }
}
