// CoordinatorCommand: `ablate coordinator`, serve a sweep to workers and keep its state in a directory.
import AblateSupport
import ArgumentParser
import CoordinatorKit
import Foundation
import Logging
import ReportKit
import WireProtocol
import WorkerKit

/// Runs a sweep: binds a ROUTER, assigns cells to workers, stores metrics, checkpoints and results under --state.
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve a sweep's cells to workers over ZeroMQ; state (SQLite) and results go to --state.",
        discussion:
            "Restarting with the same --state resumes: done cells are not redone, cells in flight are kept if their worker comes back, else requeued from their last checkpoint."
    )

    @Option(
        name: [.short, .long],
        help:
            "Sweep file (YAML, see docs/sweep-format.md). Without it, or with --lab, the coordinator serves a lab: every sweep under STATE/sweeps/ plus each --sweep given (repeatable)."
    )
    var sweep: [String] = []
    @Flag(
        help:
            "Serve --state as a lab (docs/lab.md) even with --sweep; a single-sweep directory is moved into STATE/sweeps/<name>/ when its sweep file is given."
    )
    var lab = false
    @Option(help: "State directory (ledger.sqlite, artifacts/, runs/; a lab: lab.json, sweeps/<name>/).") var state:
        String
    @Option(help: "Endpoint to bind, e.g. tcp://0.0.0.0:5555 or ipc:///run/ablate.sock.") var bind: String
    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval in milliseconds.") var heartbeatMs = 1000
    @Option(help: "Silent heartbeat intervals before a worker is declared dead.") var liveness = 5
    @Option(
        name: .customLong("restart-grace-ms"),
        help: "After a restart, how long running cells wait for their worker before being requeued.")
    var restartGraceMs = 15_000
    @Option(
        name: .customLong("min-free-mb"),
        help:
            "Megabytes (10^6 bytes) that must stay free in the state directory's filesystem; transfers pause below it.")
    var minFreeMB: Int64 = 256
    @Flag(
        name: .customLong("keep-serving"),
        help: "Keep serving after every cell is done or failed (status queries); a lab always does.")
    var keepServing = false
    @OptionGroup var curve: CurveServerOptions
    @OptionGroup var dashboard: HTTPOptions
    @OptionGroup var fault: FaultOptions
    @OptionGroup var logging: LogOptions

    func validate() throws {
        try EndpointSyntax.check(bind, option: "--bind", bind: true)
        try dashboard.check()
        if isLab {
            if dashboard.http != nil {
                throw ValidationError("--http shows one sweep; a lab has none yet (use `ablate status NAME --connect`)")
            }
        } else if sweep.count > 1 {
            throw ValidationError("--sweep given \(sweep.count) times: several sweeps need a lab (add --lab)")
        }
    }

    /// A lab: no --sweep, --lab, or a state directory that is one already.
    var isLab: Bool {
        sweep.isEmpty || lab || StateLayout.isLab(state)
    }

    func run() throws {
        var settings = CoordinatorSettings()
        settings.heartbeatMs = heartbeatMs
        settings.liveness = liveness
        settings.restartGraceMs = restartGraceMs
        let (bytes, overflow) = minFreeMB.multipliedReportingOverflow(by: 1_000_000)
        settings.minFreeBytes = overflow ? Int64.max : bytes
        let problems = settings.problems()
        guard problems.isEmpty else { throw RunFailure(message: problems.joined(separator: "; ")) }
        fault.arm()
        logging.apply()
        let logger = Logger(label: "coordinator")
        let security = try curve.security(endpoint: bind, logger: logger)
        if isLab {
            return try LabService(state: state, sweepFiles: sweep, bind: bind, settings: settings).run(
                security: security, logger: logger)
        }
        let sweep = self.sweep[0]
        let stop = StopSignal()
        let hangup = HangupSignal()
        let notifier = SystemdNotifier()
        // Listening first: a port that cannot be bound stops the start before the state directory is touched.
        let http = try dashboard.listen(logger: logger)
        defer { http?.stop() }
        // A start that fails before listening (a bad sweep or file, a bind that fails) leaves --state as it was.
        let undo = StateDirectoryUndo(state)
        let setup: CoordinatorSetup
        do {
            setup = try CoordinatorSetup.prepare(
                sweepPath: sweep, stateDirectory: state, settings: settings, now: Date().timeIntervalSince1970,
                checkStage1: Checkpoint.checkStage1, logger: logger)
        } catch {
            undo.undo(holdingLock: false)
            throw error
        }
        let server: CoordinatorServer
        do {
            server = try CoordinatorServer(setup: setup, endpoint: bind)
        } catch {
            try? setup.ledger.close()
            undo.undo(holdingLock: true)
            throw error
        }
        http?.startRefreshing(stateDirectory: state, notes: AdaptiveStatus.lines)
        var listening = false
        server.security = security
        server.shouldReloadKeys = { hangup.take() }
        server.onListening = { endpoint in
            listening = true
            notifier.ready(status: "serving \(setup.sweep.name) on \(endpoint)")
        }
        let refresher = ReportRefresher(
            stateDirectory: state, onReport: AdaptiveVerdicts.poster(server.adaptiveMailbox))
        server.onProgress = { scheduler in
            notifier.tick(status: ServiceStatus.coordinator(scheduler, paused: server.pauseReason))
            refresher.poll { scheduler.finishedCellCount }
        }
        var stopping = false
        defer { if !stopping { notifier.stopping(status: "sweep finished; stopping") } }
        do {
            try server.run(
                untilFinished: !keepServing,
                shouldStop: {
                    guard stop.isRaised else { return false }
                    if !stopping { notifier.stopping(status: "stopping: saving state") }
                    stopping = true
                    return true
                })
        } catch {
            http?.stopRefreshing()
            guard !listening else { throw error }
            try? setup.ledger.close()
            undo.undo(holdingLock: true)
            if let error = error as? ZMQError, error.operation.hasPrefix("zmq_bind") {
                throw RunFailure(message: "--bind \(bind): cannot listen: \(ZeroMQ.errorText(error.code))")
            }
            throw error
        }
        // The dashboard's reader closes before the ledger does (it keeps serving its last snapshot).
        http?.stopRefreshing()
        // A background refresh still computing is dropped (nothing it builds is written after `close`); FinalReport
        // builds and writes the final report.
        refresher.close()
        try setup.ledger.close()
        emit(FinalReport.text(stateDirectory: state, cache: refresher.pairedTests))
        if stop.isRaised { emit("stopped; state saved in \(state)") }
    }
}
