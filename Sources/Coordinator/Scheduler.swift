// Scheduler: the coordinator's decisions as a pure state machine — messages and clock ticks in, actions out.
import Foundation
import Logging
import RunSpec
import WireProtocol

/// The end of an attempt, saved with the cell in one transaction.
public struct AttemptEnd: Equatable, Sendable {
    public var attempt: Int
    public var outcome: String
    public var reason: String?
    public var at: Double
}

/// What the coordinator's loop must do, in order. Persistence comes before the message that depends on it
/// (e.g. METRICS_ACK follows the stored metrics), so executing them in order keeps acknowledgements honest.
public enum SchedulerAction: Equatable, Sendable {
    case send(PeerID, Message)
    case saveCell(CellRecord, starting: AttemptRecord?, ending: AttemptEnd?)
    case storeMetrics(MetricsRecord)
    case saveWorker(WorkerRecord)
    case recordCellFile(CellFileRecord)
    /// A received file is now in the artifact store: record it (before the STORED that acknowledges it).
    case addArtifact(ArtifactRecord)
    /// The cell is done: write its central results (`runs/<variant>/seed-<seed>/`).
    case finishCell(CellRecord)
    /// A current offer of a file the coordinator lacks: the transfer receiver takes it from here.
    case acceptOffer(PeerID, Offer)
    /// Output lines of a command cell's current attempt: append them to that attempt's log.
    case appendLog(CellRecord, attempt: Int, lines: [String])
    /// Increment a named counter (dropped, stale, …).
    case count(String)
    /// Make these exactly the cancelled variants in the ledger (`ablate cancel` / `resume`).
    case saveCancelled(Set<String>)
    /// Record the seeds an `ablate extend` added and add their cells to the ledger's plan (one transaction), before
    /// the scheduler assigns them.
    case extendPlan(seeds: [ExtensionSeed], cells: [CellRecord])
    /// A line for the scheduler's log, at `level`.
    case log(String, level: Logger.Level = .info)
    /// A log line that a peer can make repeat (stale or refused traffic): written through the loop's log throttle,
    /// at most one per `kind` per interval, with a count of the others.
    case logRepeated(String, kind: String)
}

/// Cells, worker sessions, fencing, expiry and assignment; no I/O and no clock of its own (time is an argument, in
/// seconds), so every rule is tested with a manual clock. The loop around it owns sockets, files and the ledger.
public struct Scheduler: Sendable {
    /// A live worker connection.
    public struct Session: Sendable, Equatable {
        public var id: String
        public var peer: PeerID
        public var worker: String
        public var incarnation: String
        public var slots: Int
        public var lastHeard: Double
        /// Cells this session runs, with their attempt.
        public var held: [String: Int] = [:]
        /// The worker's host and GPUs, from its HELLO (for status replies).
        public var host = ""
        public var gpus: [Int]?
    }

    public let settings: CoordinatorSettings
    public let incarnation: String
    // The state below is written only by the Scheduler's own files (this one and its `Scheduler+*.swift` extensions).
    public internal(set) var cells: [String: CellRecord] = [:]
    public internal(set) var order: [String] = []
    public internal(set) var sessions: [String: Session] = [:]
    var sessionOfPeer: [PeerID: String] = [:]
    /// The label of each worker's latest HELLO, by worker name (shown by `ablate status`; kept in memory only).
    var workerLabels: [String: String] = [:]
    /// Running cells found at start-up whose worker has not come back yet, with the time they are requeued.
    var orphanDeadline: [String: Double] = [:]
    /// Stored files of each cell by name.
    var files: [String: [String: CellFileRecord]] = [:]
    var artifactSizes: [String: Int64]
    let dataset: ArtifactRef?
    let stage1Checkpoint: ArtifactRef?
    /// Each cell's pace as its epoch reports in this process show it (`ablate status --connect`).
    private(set) var progress: [String: CellProgress] = [:]
    private var lastHeartbeatSent = -Double.infinity
    /// The sessions open when the sweep finished have been sent DISCONNECT `sweep finished`.
    var finishAnnounced = false
    var sessionCounter = 0
    /// Bring-your-own-trainer cells' commands by cell id (placeholders of the coordinator filled in).
    var commands: [String: CellCommand]
    /// The name of the sweep served (CONTROL requests name it).
    public var sweepName = ""
    /// Variants a client cancelled: their pending cells are not assigned until resumed (`Scheduler+Control.swift`).
    public internal(set) var cancelledVariants: Set<String> = []
    /// False in a lab (`LabServer`): this sweep shares its workers with others, so it starts cells only when the lab
    /// grants it slots (`assign(granted:now:)`), and its end disconnects no worker.
    public var ownsWorkers = true
    /// In a lab, cells another sweep runs for this one (the same id, planned there first): never started here;
    /// their result is adopted when it is done (`adoptDone`).
    public var heldBack: Set<String> = []
    /// The latest report's verdict of each variant (`better`, `worse`, `equivalent`, `undecided`, `not tested`), set
    /// by the loop as reports are rebuilt; shown by `ablate sweeps`.
    public var verdicts: [String: String] = [:]
    /// LOG messages per cell: at most one a second, with a burst of `logBurst` (the worker sends one a second).
    private var logRate = RateLimiter<String>(ratePerSecond: 1, burst: Scheduler.logBurst, maxPeers: 65_536)
    /// LOG messages a cell may send at once after a quiet spell (a final batch right after a regular one).
    public static let logBurst = 3.0

    /// Builds the state from the ledger: `cells` in plan order, their stored files, the artifacts held (SHA-256 →
    /// size). Cells that were running keep their attempt for the restart grace, waiting for their worker.
    /// `commands` gives the user command of each bring-your-own-trainer cell (the others use the native trainer).
    public init(
        settings: CoordinatorSettings, incarnation: String, cells: [CellRecord], files: [CellFileRecord],
        artifacts: [String: Int64], dataset: ArtifactRef?, stage1Checkpoint: ArtifactRef?, now: Double,
        commands: [String: CellCommand] = [:]
    ) {
        self.settings = settings
        self.commands = commands
        self.incarnation = incarnation
        self.artifactSizes = artifacts
        self.dataset = dataset
        self.stage1Checkpoint = stage1Checkpoint
        for cell in cells.sorted(by: { $0.position < $1.position }) {
            self.cells[cell.id] = cell
            order.append(cell.id)
            if cell.state == .running { orphanDeadline[cell.id] = now + Double(settings.restartGraceMs) / 1000 }
        }
        for file in files { self.files[file.cell, default: [:]][file.name] = file }
    }

    private var expiry: Double { Double(settings.expiryMs) / 1000 }

    /// Whether more cells may still be planned (an adaptive sweep whose judge has not settled): the sweep is not
    /// finished then even when every cell is, so workers are kept.
    public var awaitingPlan = false

    /// True when every cell is done or failed and no more cells may be planned.
    public var isFinished: Bool { !awaitingPlan && allCellsFinished }

    /// True when every cell is done or failed.
    public var allCellsFinished: Bool {
        order.allSatisfy { cells[$0].map { $0.state == .done || $0.state == .failed } ?? true }
    }

    /// Whether `attempt` of `cell` is still running (a transfer of one of its files can still be of use).
    public func isRunning(_ cell: String, attempt: Int) -> Bool {
        guard let record = cells[cell] else { return false }
        return record.state == .running && record.attempt == attempt
    }

    /// Whether a cell that was running at start-up still waits for its worker (files of it may still arrive).
    public var awaitsOrphans: Bool { !orphanDeadline.isEmpty }

    /// Whether `peer` has a live session (FETCH and CHUNK are served only to those).
    public func isLive(_ peer: PeerID) -> Bool { sessionOfPeer[peer] != nil }

    /// The file of a cell by name (e.g. the stage-1 job's `best.h5`).
    public func file(_ name: String, of cell: String) -> CellFileRecord? { files[cell]?[name] }

    // MARK: - Events

    /// One decoded message from `peer`.
    public mutating func handle(_ message: Message, from peer: PeerID, now: Double) -> [SchedulerAction] {
        if case .hello(let hello) = message { return welcome(hello, peer: peer, now: now) }
        if case .statusRequest = message { return [.send(peer, .statusReply(statusReply(now: now)))] }
        if case .control(let request) = message {
            return control(request, from: peer, client: "loopback", extension: nil, now: now)
        }
        guard let sessionID = sessionOfPeer[peer] else {
            return [.count("unknown_session"), .send(peer, .disconnect(.unknownSession))]
        }
        sessions[sessionID]?.lastHeard = now
        switch message {
        case .heartbeat(let heartbeat):
            // Progress inside an epoch, for `ablate status`; only of attempts this session holds.
            for job in heartbeat.progress where job.phase != nil && isCurrent(job.cell, job.attempt, session: sessionID)
            {
                progress[job.cell, default: CellProgress()].heard(job)
            }
            return []
        case .metrics(let report):
            return metrics(report, session: sessionID, peer: peer, now: now)
        case .offer(let offer):
            guard isCurrent(offer.cell, offer.attempt, session: sessionID) else {
                return stale("offer", offer.cell, offer.attempt) + [
                    .send(peer, .stored(Stored(sha256: offer.file.sha256, status: .stale)))
                ]
            }
            if artifactSizes[offer.file.sha256] == offer.file.size {
                return fileStored(
                    cell: offer.cell, attempt: offer.attempt, epoch: offer.epoch, file: offer.file, peer: peer)
            }
            return [.acceptOffer(peer, offer)]
        case .done(let done):
            return finish(done, session: sessionID, peer: peer, now: now)
        case .failed(let failed):
            return fail(failed, session: sessionID, peer: peer, now: now)
        case .release(let release):
            return self.release(release, session: sessionID, now: now)
        case .log(let output):
            guard isCurrent(output.cell, output.attempt, session: sessionID), let cell = cells[output.cell] else {
                return [.count("stale_log")]
            }
            guard logRate.allow(peer: output.cell, now: now) else {
                return [
                    .count("dropped_log_rate"),
                    .logRepeated(
                        "dropped LOG of cell \(output.cell.prefix(12)): more than one a second",
                        kind: "dropped_log_rate"),
                ]
            }
            return [.appendLog(cell, attempt: output.attempt, lines: output.lines)]
        default:
            return [.count("unexpected_\(message.command)")]
        }
    }

    /// A file adopted from another sweep's run (`adoptDone`): the cell's file here, its bytes held.
    mutating func recordAdopted(_ file: CellFileRecord, size: Int64) {
        files[file.cell, default: [:]][file.name] = file
        artifactSizes[file.sha256] = size
    }

    /// Artifacts removed from the store (superseded checkpoints): an offer of one of them is transferred again.
    public mutating func forgetArtifacts(_ shas: [String]) {
        for sha in shas { artifactSizes[sha] = nil }
    }

    /// A file of an offer has been received and verified (`file.sha256` is now in the artifact store).
    public mutating func fileStored(cell: String, attempt: Int, epoch: Int, file: ArtifactRef, peer: PeerID)
        -> [SchedulerAction]
    {
        artifactSizes[file.sha256] = file.size
        guard let sessionID = sessionOfPeer[peer], isCurrent(cell, attempt, session: sessionID) else {
            return stale("file", cell, attempt) + [.send(peer, .stored(Stored(sha256: file.sha256, status: .stale)))]
        }
        if let held = files[cell]?[file.name], held.attempt == attempt, held.epoch > epoch {
            // A late copy of an older epoch's file (resent after a reconnect): the newer one stays.
            return [.send(peer, .stored(Stored(sha256: file.sha256, status: .ok)))]
        }
        let record = CellFileRecord(cell: cell, attempt: attempt, name: file.name, epoch: epoch, sha256: file.sha256)
        files[cell, default: [:]][file.name] = record
        var actions: [SchedulerAction] = [.recordCellFile(record)]
        if file.name == resumeFileName(of: cell), var cellRecord = cells[cell], epoch >= cellRecord.resumeEpoch {
            cellRecord.resumeSHA256 = file.sha256
            cellRecord.resumeEpoch = epoch
            cells[cell] = cellRecord
            actions.append(.saveCell(cellRecord, starting: nil, ending: nil))
        }
        actions.append(.send(peer, .stored(Stored(sha256: file.sha256, status: .ok))))
        return actions
    }

    /// Expiry, orphans, heartbeats and assignment at time `now`.
    public mutating func tick(now: Double) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        for session in sessions.values.sorted(by: { $0.id < $1.id }) where session.lastHeard + expiry < now {
            actions.append(
                .log(
                    "worker \(session.worker) (session \(session.id)) silent for \(Int(now - session.lastHeard)) s: declared dead",
                    level: .warning))
            actions += dropSession(session.id, now: now, reason: "worker \(session.worker) stopped answering")
        }
        for (cell, deadline) in orphanDeadline.sorted(by: { $0.key < $1.key }) where deadline < now {
            orphanDeadline[cell] = nil
            actions += requeue(
                cell, now: now, outcome: "lost", reason: "its worker did not come back after a coordinator restart")
        }
        if now - lastHeartbeatSent >= Double(settings.heartbeatMs) / 1000 {
            lastHeartbeatSent = now
            for session in sessions.values.sorted(by: { $0.id < $1.id }) {
                actions.append(.send(session.peer, .heartbeat(Heartbeat())))
            }
        }
        return actions + assign(now: now) + announceFinish(now: now)
    }

    /// Once every cell is done or failed: DISCONNECT `sweep finished` to every session open by then, which ends (later
    /// HELLOs get a WELCOME with `sweep_finished` and keep their session).
    mutating func announceFinish(now: Double) -> [SchedulerAction] {
        guard ownsWorkers, isFinished, !finishAnnounced else { return [] }
        finishAnnounced = true
        var actions: [SchedulerAction] = []
        for session in sessions.values.sorted(by: { $0.id < $1.id }) {
            actions.append(.send(session.peer, .disconnect(.sweepFinished)))
            actions += dropSession(session.id, now: now, reason: "the sweep finished")
        }
        return actions
    }

    // MARK: - Cells

    private func isCurrent(_ cell: String, _ attempt: Int, session: String) -> Bool {
        guard let record = cells[cell], record.state == .running, record.attempt == attempt else { return false }
        return sessions[session]?.held[cell] == attempt
    }

    private func stale(_ what: String, _ cell: String, _ attempt: Int) -> [SchedulerAction] {
        [
            .count("stale_\(what)"),
            .logRepeated(
                "ignored \(what) of cell \(cell.prefix(12)) attempt \(attempt): not the current attempt",
                kind: "stale_\(what)"),
        ]
    }

    private mutating func metrics(_ report: MetricsReport, session: String, peer: PeerID, now: Double)
        -> [SchedulerAction]
    {
        guard isCurrent(report.cell, report.attempt, session: session), var cell = cells[report.cell] else {
            return stale("metrics", report.cell, report.attempt)
                + [
                    .send(
                        peer,
                        .cancel(Cancel(cell: report.cell, attempt: report.attempt, reason: "not the current attempt")))
                ]
        }
        cell.epochsDone = max(cell.epochsDone, report.epoch)
        if report.valMacroF1.isFinite {
            cell.bestValMacroF1 = max(cell.bestValMacroF1 ?? -.infinity, report.valMacroF1)
        }
        cell.updatedAt = now
        cells[report.cell] = cell
        progress[report.cell, default: CellProgress()].record(
            seconds: report.seconds, trainLoss: report.trainLoss, valMacroF1: report.valMacroF1, record: report.record,
            at: now)
        return [
            .storeMetrics(
                MetricsRecord(
                    cell: report.cell, attempt: report.attempt, seq: report.seq, epoch: report.epoch,
                    valMacroF1: report.valMacroF1, record: report.record, receivedAt: now)),
            .saveCell(cell, starting: nil, ending: nil),
            .send(peer, .metricsAck(MetricsAck(cell: report.cell, attempt: report.attempt, seq: report.seq))),
        ]
    }

    private mutating func finish(_ done: Done, session: String, peer: PeerID, now: Double) -> [SchedulerAction] {
        guard var cell = cells[done.cell] else { return [.count("unknown_cell")] }
        if cell.state == .done, cell.attempt == done.attempt {
            return [.send(peer, .doneAck(DoneAck(cell: done.cell, attempt: done.attempt, status: .ok)))]
        }
        guard isCurrent(done.cell, done.attempt, session: session) else {
            return stale("done", done.cell, done.attempt) + [
                .send(peer, .doneAck(DoneAck(cell: done.cell, attempt: done.attempt, status: .stale)))
            ]
        }
        let missing = done.files.filter { files[done.cell]?[$0.name]?.sha256 != $0.sha256 }
        guard missing.isEmpty else {
            return [
                .logRepeated(
                    "cell \(done.cell.prefix(12)): DONE before \(missing.map(\.name).joined(separator: ", ")) arrived",
                    kind: "done_missing_files"),
                .send(peer, .doneAck(DoneAck(cell: done.cell, attempt: done.attempt, status: .missingFiles))),
            ]
        }
        sessions[session]?.held[done.cell] = nil
        cell.state = .done
        cell.worker = nil
        cell.summaryJSON = done.summary
        cell.reason = nil
        cell.updatedAt = now
        cells[done.cell] = cell
        return [
            .saveCell(
                cell, starting: nil, ending: AttemptEnd(attempt: done.attempt, outcome: "done", reason: nil, at: now)),
            .finishCell(cell),
            .log("cell \(cell.variant)/seed-\(cell.seed) done (attempt \(done.attempt))"),
            .send(peer, .doneAck(DoneAck(cell: done.cell, attempt: done.attempt, status: .ok))),
        ] + assign(now: now)
    }

    /// RELEASE: a stopping worker gives the cell back. It is requeued at once (no failure counted) and the session
    /// takes no new cells; a stale attempt is only counted.
    private mutating func release(_ release: Release, session: String, now: Double) -> [SchedulerAction] {
        sessions[session]?.slots = 0
        guard isCurrent(release.cell, release.attempt, session: session) else {
            return stale("release", release.cell, release.attempt)
        }
        sessions[session]?.held[release.cell] = nil
        return requeue(
            release.cell, now: now, outcome: "lost",
            reason: "released by its worker (\(PrintableText.oneLine(release.reason, limit: 200)))") + assign(now: now)
    }

    private mutating func fail(_ received: Failed, session: String, peer: PeerID, now: Double) -> [SchedulerAction] {
        // The reason is the worker's text: it is kept and shown on one line, without control characters.
        var failed = received
        failed.reason = PrintableText.oneLine(received.reason)
        guard isCurrent(failed.cell, failed.attempt, session: session), var cell = cells[failed.cell] else {
            return stale("failed", failed.cell, failed.attempt) + [
                .send(peer, .doneAck(DoneAck(cell: failed.cell, attempt: failed.attempt, status: .stale)))
            ]
        }
        sessions[session]?.held[failed.cell] = nil
        cell.failures += 1
        cell.worker = nil
        cell.updatedAt = now
        let final = failed.deterministic || cell.failures >= settings.maxAttempts
        cell.state = final ? .failed : .pending
        cell.epochsDone = final ? cell.epochsDone : cell.resumeEpoch
        if final {
            cell.reason =
                failed.deterministic ? failed.reason : "\(cell.failures) attempts failed; last: \(failed.reason)"
        }
        cells[failed.cell] = cell
        let what = final ? "failed" : "will be retried"
        return [
            .saveCell(
                cell, starting: nil,
                ending: AttemptEnd(attempt: failed.attempt, outcome: "failed", reason: failed.reason, at: now)),
            .log(
                "cell \(cell.variant)/seed-\(cell.seed) attempt \(failed.attempt) failed (\(failed.reason)); \(what)",
                level: final ? .error : .warning),
            .send(peer, .doneAck(DoneAck(cell: failed.cell, attempt: failed.attempt, status: .ok))),
        ] + assign(now: now)
    }

}
