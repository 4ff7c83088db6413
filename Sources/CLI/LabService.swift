// LabService: `ablate coordinator` as a lab — many sweeps under STATE/sweeps/, one endpoint, shared workers.
import AblateSupport
import CoordinatorKit
import Foundation
import Logging
import ReportKit
import WireProtocol
import WorkerKit

/// Opens (or creates, or migrates) a lab state directory, serves every sweep in it plus those given with `--sweep`,
/// and writes each sweep's report in its own directory as cells finish.
struct LabService {
    let state: String
    let sweepFiles: [String]
    let bind: String
    let settings: CoordinatorSettings

    /// Runs until SIGTERM/SIGINT.
    func run(security: CoordinatorSecurity?, logger: Logger) throws {
        let now = Date().timeIntervalSince1970
        // Every --sweep file is read first: a bad one stops the start before the state directory is touched.
        var given: [(path: String, sweep: Sweep)] = []
        for path in sweepFiles {
            let absolute = Self.absolute(path)
            given.append((absolute, try Sweep.load(path: absolute)))
        }
        let names = given.map(\.sweep.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw RunFailure(message: "--sweep: two files name sweep '\(repeated)'")
        }
        try prepareLayout(given: given.map(\.sweep.name))
        let lock = try StateLock(stateDirectory: state)
        defer { _ = lock }
        for (path, sweep) in given {
            let directory = StateLayout.sweepDirectory(lab: state, name: sweep.name)
            if FileManager.default.fileExists(atPath: "\(directory)/\(Submission.fileName)") {
                throw RunFailure(
                    message:
                        "--sweep \(path): the lab serves a submitted sweep named '\(sweep.name)' (\(directory)); rename this one"
                )
            }
            let earlier = try LabSweepSource.read(sweepDirectory: directory)
            try LabSweepSource(sweepPath: path, submittedAt: earlier?.submittedAt ?? now).write(
                sweepDirectory: directory)
        }
        let lab = LabServer(directory: state, endpoint: bind, settings: settings, now: now)
        lab.security = security
        let hangup = HangupSignal()
        lab.shouldReloadKeys = { hangup.take() }
        var refreshers: [ReportRefresher] = []
        var ledgers: [Ledger] = []
        func served(_ setup: CoordinatorSetup, _ server: CoordinatorServer, directory: String) {
            ledgers.append(setup.ledger)
            let refresher = ReportRefresher(
                stateDirectory: directory, onReport: AdaptiveVerdicts.poster(server.adaptiveMailbox))
            server.onProgress = { scheduler in refresher.poll { scheduler.finishedCellCount } }
            refreshers.append(refresher)
        }
        let uploads = UploadStore(labDirectory: state)
        let settings = self.settings
        let openSubmission = { (submission: Submission, directory: String) throws -> CoordinatorSetup in
            try CoordinatorSetup.prepare(
                submission: submission, sweepDirectory: directory, uploads: uploads, settings: settings,
                now: Date().timeIntervalSince1970, checkStage1: Checkpoint.checkStage1, logger: logger)
        }
        for name in try StateLayout.sweepNames(lab: state) {
            let directory = StateLayout.sweepDirectory(lab: state, name: name)
            do {
                if let source = try LabSweepSource.read(sweepDirectory: directory) {
                    let setup = try CoordinatorSetup.prepare(
                        sweepPath: source.sweepPath, stateDirectory: directory, settings: settings, now: now,
                        checkStage1: Checkpoint.checkStage1, logger: logger)
                    let server = try lab.add(setup, priority: setup.sweep.priority, submittedAt: source.submittedAt)
                    served(setup, server, directory: directory)
                } else if FileManager.default.fileExists(atPath: "\(directory)/\(Submission.fileName)") {
                    let submission = try Submission.read(sweepDirectory: directory)
                    let setup = try openSubmission(submission, directory)
                    served(setup, try lab.add(setup, submission: submission), directory: directory)
                } else {
                    logger.warning(
                        "\(directory): neither \(LabSweepSource.fileName) nor \(Submission.fileName); not served")
                }
            } catch {
                // A sweep given now must open; one served before is left out with its reason, the others go on.
                if names.contains(name) { throw error }
                logger.error("sweep \(name) not served: \(error)")
            }
        }
        lab.takeSubmissions(
            desk: SubmissionDesk(labDirectory: state, uploads: uploads, checkStage1: Checkpoint.checkStage1),
            open: openSubmission)
        lab.onAdded = { name, server in
            served(server.setup, server, directory: StateLayout.sweepDirectory(lab: state, name: name))
        }
        let stop = StopSignal()
        let notifier = SystemdNotifier()
        // The watchdog is pinged from the loop, with the lab's line as the unit's STATUS=.
        // The line counts every cell of every sweep: made at most once a second, not on each 50 ms iteration.
        var lastStatus = Date.distantPast
        lab.onIteration = {
            guard Date().timeIntervalSince(lastStatus) >= 1 else { return notifier.tick() }
            lastStatus = Date()
            notifier.tick(status: lab.statusLine)
        }
        lab.onListening = { endpoint in
            notifier.ready(status: "serving \(lab.sweepNames.count) sweep(s) on \(endpoint)")
        }
        do {
            try lab.run(shouldStop: {
                guard stop.isRaised else { return false }
                notifier.stopping(status: "stopping: saving state")
                return true
            })
        } catch let error as ZMQError where error.operation.hasPrefix("zmq_bind") {
            throw RunFailure(message: "--bind \(bind): cannot listen: \(ZeroMQ.errorText(error.code))")
        }
        for refresher in refreshers { refresher.close() }
        for ledger in ledgers { try ledger.close() }
        emit("stopped; state saved in \(state)")
    }

    /// Makes `state` a lab: created when empty; a single-sweep directory is moved into `sweeps/<name>/` when one
    /// of the `--sweep` files is that sweep (its file is needed to serve it), else refused with the command to use.
    private func prepareLayout(given: [String]) throws {
        switch try StateLayout.kind(of: state) {
        case .lab:
            return
        case .empty:
            try StateLayout.createLab(at: state)
        case .single(let name):
            guard given.contains(name) else {
                throw RunFailure(
                    message:
                        "\(state): holds the single sweep '\(name)'; to serve it in a lab, start once with --sweep and its sweep file (it moves to \(StateLayout.sweepDirectory(lab: state, name: name)), no cell redone)"
                )
            }
            let moved = try StateLayout.migrate(single: state, expectedSweep: name)
            emit("moved sweep \(name) into \(moved)")
        }
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
