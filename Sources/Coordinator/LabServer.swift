// LabServer: one ROUTER serving many sweeps — shared workers, messages routed to their sweep, slots granted by policy.
import AblateSupport
import Foundation
import Logging
import TransferKit
import WireProtocol

/// A lab coordinator: every sweep keeps its own `CoordinatorServer` (scheduler, ledger, transfers and results under
/// `STATE/sweeps/<name>/`), and this loop owns what they share — the socket, CURVE, the workers' sessions and their
/// slots (docs/lab.md).
///
/// - **Sessions.** A worker's HELLO is answered once, by the lab, and given to every sweep (each with the cells of
///   its own that the worker resumes), so each sweep has a session for each worker; HEARTBEATs go to every sweep
///   that has one. The sweeps' own WELCOME, HEARTBEAT and DISCONNECT are dropped: the lab sends those.
/// - **Routing.** A message about a cell goes to the sweep whose session on that worker holds it (else the sweep
///   that has the cell); a CHUNK to the sweep receiving that file; a FETCH to a sweep holding the artifact;
///   STATUS and CONTROL by the sweep they name.
/// - **Slots.** The sweeps start no cell on their own (`Scheduler.ownsWorkers` false). After each round of events
///   the lab hands out each free worker slot, one at a time, to the sweep that goes first by the cross-sweep
///   policy (`CrossSweepScheduler.precedes`: priority, then running cells, then least recently served, submission
///   time, name), among the sweeps with a cell ready to start.
/// - **No end.** A lab never finishes; a sweep's end disconnects no worker (`ablate worker --exit-when-idle`
///   leaves when no cell comes).
public final class LabServer {
    /// One sweep served.
    final class Member {
        let server: CoordinatorServer
        var priority: Int
        let submittedAt: Double
        /// The serial of the latest slot granted to it (0: never).
        var lastServed = 0
        let outbox: LabOutbox
        /// What a client submitted (nil for a sweep from a file on this host): the same SUBMIT again is answered
        /// as accepted.
        var submission: Submission?

        init(server: CoordinatorServer, priority: Int, submittedAt: Double, outbox: LabOutbox) {
            self.server = server
            self.priority = priority
            self.submittedAt = submittedAt
            self.outbox = outbox
        }

        var name: String { server.setup.sweep.name }
    }

    /// A worker with a lab session.
    struct Worker {
        var hello: Hello
        var session: String
        var lastHeard: Double
        /// 0 once it sent RELEASE (stopping): it gets no more cells.
        var slots: Int
    }

    public let directory: String
    public let endpoint: String
    public let settings: CoordinatorSettings
    /// CURVE on the ROUTER with a ZAP allowlist (nil: plaintext; the caller enforces the loopback rule).
    public var security: CoordinatorSecurity?
    /// Polled every loop iteration; true re-reads the authorized keys (the CLI raises it on SIGHUP).
    public var shouldReloadKeys: (() -> Bool)?
    /// Called once the socket is bound, with the actual endpoint.
    public var onListening: ((String) -> Void)?
    var members: [String: Member] = [:]
    var workers: [PeerID: Worker] = [:]
    /// Cell ids planned by more than one sweep, with those sweeps (first served first), and the plan size it was
    /// built for (`LabServer+Shared.swift`).
    var shared: [String: [Member]] = [:]
    var sharedKey = -1
    /// Checks and opens submitted sweeps (nil: the lab takes no submissions); `uploadDesk` stores their files.
    var submissions: SubmissionOpener?
    var uploadDesk: SubmissionDesk?
    /// Called on the loop's thread when a submitted sweep starts being served, with its name and loop (e.g. to
    /// start refreshing its report).
    public var onAdded: ((String, CoordinatorServer) -> Void)?
    /// Called after every loop iteration (the service's watchdog and status line).
    public var onIteration: (() -> Void)?
    /// The ROUTER while `run` runs (a sweep added then sends through it).
    private var socket: ZMQSocket?
    private let incarnation: String
    private var sessionCounter = 0
    private var serveSerial = 0
    private var lastHeartbeatSent = -Double.infinity
    private var limiter: RateLimiter<PeerID>
    private let limits: FrameLimits
    private var throttle = LogThrottle()
    let log: Logger
    private let makeLogger: (String) -> Logger

    /// `directory` is the lab's state directory (`StateLayout`); `settings` give the sessions' timing, frame and rate
    /// limits (each sweep's own `max_attempts` stays its own).
    public init(
        directory: String, endpoint: String, settings: CoordinatorSettings, now: Double,
        makeLogger: @escaping (String) -> Logger = { Logger(label: $0) }
    ) {
        self.directory = directory
        self.endpoint = endpoint
        self.settings = settings
        self.makeLogger = makeLogger
        log = makeLogger("coordinator")
        incarnation = "lab-\(Int(now * 1000))"
        limits = FrameLimits(maxChunkBytes: settings.chunkBytes)
        limiter = RateLimiter(ratePerSecond: Double(settings.maxMessagesPerSecond))
    }

    /// Takes `ablate submit` from now on: `desk` checks SUBMITs and stores UPLOADs; `open` opens an accepted
    /// sweep's directory (`CoordinatorSetup.prepare(submission:…)` with the trainer's stage-1 check).
    public func takeSubmissions(
        desk: SubmissionDesk, open: @escaping (Submission, String) throws -> CoordinatorSetup
    ) {
        uploadDesk = desk
        submissions = SubmissionOpener(desk: desk, directory: directory, open: open)
    }

    /// Serves a sweep submitted earlier (read back at a start) and remembers its submission.
    public func add(_ setup: CoordinatorSetup, submission: Submission) throws -> CoordinatorServer {
        let server = try add(setup, priority: submission.priority, submittedAt: submission.submittedAt)
        members[submission.name]?.submission = submission
        return server
    }

    /// One line on the whole lab, e.g. `2 sweeps: 12/40 cells done, 4 running, 1 failed; 3 workers`.
    public var statusLine: String {
        let cells = members.values.flatMap { $0.server.scheduler.cells.values }
        let done = cells.filter { $0.state == .done }.count
        let running = cells.filter { $0.state == .running }.count
        let failed = cells.filter { $0.state == .failed }.count
        let sweeps = members.count == 1 ? "1 sweep" : "\(members.count) sweeps"
        let workers = workers.count == 1 ? "1 worker" : "\(workers.count) workers"
        return "\(sweeps): \(done)/\(cells.count) cells done, \(running) running, \(failed) failed; \(workers)"
    }

    /// The names of the sweeps served, sorted.
    public var sweepNames: [String] { members.keys.sorted() }

    /// The scheduler of a sweep served (for tests and progress displays).
    public func scheduler(of sweep: String) -> Scheduler? { members[sweep]?.server.scheduler }

    /// Serves `setup`'s sweep from now on, with `priority` (higher first). Its scheduler starts no cell on its own.
    @discardableResult
    public func add(_ setup: CoordinatorSetup, priority: Int, submittedAt: Double) throws -> CoordinatorServer {
        let name = setup.sweep.name
        guard members[name] == nil else { throw LabError("sweep \(name) is served already") }
        let server = try CoordinatorServer(setup: setup, endpoint: endpoint, makeLogger: makeLogger)
        server.scheduler.ownsWorkers = false
        let outbox = LabOutbox()
        outbox.socket = socket
        members[name] = Member(server: server, priority: priority, submittedAt: submittedAt, outbox: outbox)
        log.info("serving sweep \(name) (priority \(priority), \(setup.scheduler.cells.count) cells)")
        return server
    }

    var now: Double { Date().timeIntervalSince1970 }

    /// Serves until `shouldStop` returns true.
    public func run(shouldStop: () -> Bool) throws {
        let endpoint = try CoordinatorEndpoint(
            security: security, maxFrameBytes: limits.socketMaxFrameBytes, logger: log)
        defer { endpoint.close() }
        let socket = endpoint.socket
        self.socket = socket
        defer { self.socket = nil }
        for member in members.values { member.outbox.socket = socket }
        let bound = try endpoint.bind(self.endpoint)
        log.info("lab listening on \(bound), serving \(members.count) sweep(s)")
        onListening?(bound)
        while !shouldStop() {
            for member in sorted() { try member.server.planAdaptiveSeeds(socket: member.outbox) }
            try endpoint.receive(timeoutMs: 50) { frames, userID in
                try receive(frames, userID: userID, socket: socket)
            }
            let time = now
            for member in sorted() {
                try member.server.execute(member.server.scheduler.tick(now: time), socket: member.outbox)
                try member.server.housekeeping(socket: member.outbox)
            }
            finishSubmissions(now: time, socket: socket)
            try sessionWork(now: time, socket: socket)
            try shareCells(now: time)
            try grantSlots(now: time)
            try endpoint.drainRefusals(reload: shouldReloadKeys?() == true) { note($0, kind: $1) }
            for line in throttle.flush(now: now) { log.warning("\(line)") }
            for member in sorted() { member.server.flushLogs(socket: member.outbox) }
            onIteration?()
        }
        for member in sorted() { try member.server.finishUp(socket: member.outbox) }
        for line in throttle.flush(now: now, all: true) { log.warning("\(line)") }
    }

    /// The sweeps in name order (every loop over them goes in one order).
    func sorted() -> [Member] { members.keys.sorted().compactMap { members[$0] } }

    // MARK: - Sessions

    /// Lab heartbeats, expiry of silent workers, and a session in every sweep for every live worker (a sweep
    /// submitted after the worker's HELLO gets one here).
    private func sessionWork(now time: Double, socket: ZMQSocket) throws {
        let expiry = Double(settings.expiryMs) / 1000
        for (peer, worker) in workers.sorted(by: { $0.value.session < $1.value.session })
        where worker.lastHeard + expiry < time {
            workers[peer] = nil
            log.warning("worker \(worker.hello.worker) (session \(worker.session)) silent: declared dead")
        }
        if time - lastHeartbeatSent >= Double(settings.heartbeatMs) / 1000 {
            lastHeartbeatSent = time
            for peer in workers.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                _ = try? socket.deliver(.heartbeat(Heartbeat()), to: peer)
            }
        }
        for (peer, worker) in workers.sorted(by: { $0.value.session < $1.value.session }) {
            for member in sorted() where !member.server.scheduler.isLive(peer) {
                var hello = worker.hello
                hello.resuming = []
                try member.server.handle(
                    .hello(hello), peer: peer, userID: nil, now: time, socket: member.outbox)
            }
        }
    }

    /// A worker's HELLO: the lab's WELCOME, then the HELLO to every sweep with the cells of its own that the worker
    /// resumes; a resumed cell no sweep has is cancelled.
    private func welcome(_ hello: Hello, peer: PeerID, userID: String?, now time: Double, socket: ZMQSocket) throws {
        sessionCounter += 1
        let session = "\(incarnation)-\(sessionCounter)"
        for (other, worker) in workers where worker.hello.worker == hello.worker && other != peer {
            workers[other] = nil
        }
        workers[peer] = Worker(hello: hello, session: session, lastHeard: time, slots: hello.slots)
        _ = try? socket.deliver(
            .welcome(
                Welcome(
                    session: session, coordinatorIncarnation: incarnation, heartbeatMs: settings.heartbeatMs,
                    liveness: settings.liveness, chunkBytes: settings.chunkBytes, window: settings.window)),
            to: peer)
        let members = sorted()
        for job in hello.resuming where !members.contains(where: { $0.server.scheduler.cells[job.cell] != nil }) {
            _ = try? socket.deliver(
                .cancel(Cancel(cell: job.cell, attempt: job.attempt, reason: "unknown cell")), to: peer)
        }
        for member in members {
            var own = hello
            own.resuming = hello.resuming.filter { member.server.scheduler.cells[$0.cell] != nil }
            try member.server.handle(.hello(own), peer: peer, userID: userID, now: time, socket: member.outbox)
        }
        log.info("worker \(hello.worker) joined (\(hello.slots) slot(s), session \(session))")
    }

    // MARK: - Slots

    /// Hands out every free worker slot by `LabGrants` (the policy, decided purely) and starts each grant with its
    /// sweep's scheduler. A sweep whose grant starts nothing (a ready cell whose stage-1 file is not held yet) is
    /// left out and the remaining slots are planned again without it, until the next round.
    private func grantSlots(now time: Double) throws {
        var passed: Set<String> = []
        while true {
            var free: [PeerID: Int] = [:]
            for (peer, worker) in workers where worker.slots > 0 {
                let held = members.values.reduce(0) { $0 + $1.server.scheduler.heldCount(of: peer) }
                if worker.slots > held { free[peer] = worker.slots - held }
            }
            // Most rounds have no free slot: the sweeps' standings are not computed then.
            guard !free.isEmpty else { return }
            let candidates = sorted().filter { !passed.contains($0.name) }.map {
                LabGrants.Sweep(standing: standing($0), ready: $0.server.scheduler.readyCount)
            }
            let grants = LabGrants.plan(free: free, sweeps: candidates, serial: serveSerial)
            guard !grants.isEmpty else { return }
            var replan = false
            for grant in grants {
                guard let member = members[grant.sweep], !passed.contains(grant.sweep) else { continue }
                let actions = member.server.scheduler.assign(granted: [grant.worker: 1], now: time)
                try member.server.execute(actions, socket: member.outbox)
                let started = actions.contains {
                    if case .send(_, .assign) = $0 { return true }
                    return false
                }
                if started {
                    serveSerial = max(serveSerial, grant.serial)
                    member.lastServed = grant.serial
                } else {
                    passed.insert(grant.sweep)
                    replan = true
                }
            }
            guard replan else { return }
        }
    }

    /// A sweep's standing for the policy: its priority, running cells, latest grant, submission time and name.
    private func standing(_ member: Member) -> SweepStanding {
        SweepStanding(
            name: member.name, priority: member.priority,
            running: member.server.scheduler.cells.values.filter { $0.state == .running }.count,
            lastServed: member.lastServed, submittedAt: member.submittedAt)
    }

    // MARK: - Input

    private func receive(_ frames: [FrameBytes], userID: String?, socket: ZMQSocket) throws {
        guard let peer = frames.first?.array, frames.count > 1 else { return note(nil, kind: "dropped_frames") }
        let time = now
        guard limiter.allow(peer: peer, now: time) else {
            return note(
                "dropped messages from a peer: more than \(Int(limiter.ratePerSecond)) a second", kind: "dropped_rate")
        }
        let message: Message
        do {
            message = try MessageCodec.decode(Array(frames.dropFirst()), limits: limits)
        } catch {
            note("dropped a message: \(error)", kind: "dropped_\(error.reason)")
            if let refusal = error.refusal { _ = try? socket.deliver(.disconnect(refusal), to: peer) }
            return
        }
        try route(message, peer: peer, userID: userID, now: time, socket: socket)
    }

    func route(_ message: Message, peer: PeerID, userID: String?, now time: Double, socket: ZMQSocket) throws {
        switch message {
        case .hello where CoordinatorServer.role(of: userID) == .client:
            note("refused HELLO from client key \(userID ?? "")", kind: "client_hello")
            _ = try? socket.deliver(.disconnect(Disconnect(reason: "client keys are never given cells")), to: peer)
        case .hello(let hello):
            try welcome(hello, peer: peer, userID: userID, now: time, socket: socket)
        case .submit(let request):
            submit(request, peer: peer, userID: userID, now: time, socket: socket)
        case .upload(let upload):
            self.upload(upload, peer: peer, userID: userID, socket: socket)
        case .statusRequest(let request):
            try status(request, peer: peer, now: time, socket: socket)
        case .control(let request):
            try control(request, peer: peer, userID: userID, now: time, socket: socket)
        case .fetch(let fetch) where workers[peer] == nil:
            // A client fetching a report file it was listed (`report` action).
            for member in sorted() where try member.server.serveReport(fetch, peer: peer, socket: member.outbox) {
                return
            }
            _ = try? socket.deliver(.disconnect(.unknownSession), to: peer)
        default:
            guard workers[peer] != nil else {
                _ = try? socket.deliver(.disconnect(.unknownSession), to: peer)
                return note(nil, kind: "unknown_session")
            }
            workers[peer]?.lastHeard = time
            // Any traffic keeps the worker's session alive in every sweep, not only in the one it is about.
            for member in members.values { member.server.scheduler.heard(from: peer, now: time) }
            if case .release = message { workers[peer]?.slots = 0 }
            for member in destinations(of: message, peer: peer) {
                try member.server.handle(message, peer: peer, userID: userID, now: time, socket: member.outbox)
            }
        }
    }

    /// The sweeps a worker's message goes to.
    func destinations(of message: Message, peer: PeerID) -> [Member] {
        let members = sorted()
        switch message {
        case .heartbeat:
            return members.filter { $0.server.scheduler.isLive(peer) }
        case .chunk(let chunk):
            return members.first { $0.server.isReceiving(chunk.sha256) }.map { [$0] } ?? []
        case .fetch(let fetch):
            let holders = members.filter { $0.server.holdsArtifact(fetch.sha256) }
            return (holders.first { $0.server.scheduler.isLive(peer) } ?? holders.first).map { [$0] } ?? []
        default:
            guard let cell = message.cellID else { return [] }
            let holder =
                members.first { $0.server.scheduler.holds(cell, peer: peer) }
                ?? members.first { $0.server.scheduler.cells[cell] != nil }
            return holder.map { [$0] } ?? []
        }
    }

    // MARK: - Clients

    private func status(_ request: StatusRequest, peer: PeerID, now time: Double, socket: ZMQSocket) throws {
        let name = request.sweep ?? (members.count == 1 ? members.keys.first : nil)
        guard let name, let member = members[name] else {
            // No sweep named (or an unknown one): the names, so the client can ask for one.
            var reply = StatusReply(sweep: request.sweep ?? "", rows: [])
            reply.sweeps = sweepNames
            _ = try? socket.deliver(.statusReply(reply), to: peer)
            return
        }
        var reply = member.server.statusReply(now: time)
        reply.workers = reply.workers?.filter { worker in workers.values.contains { $0.hello.worker == worker.worker } }
        _ = try? socket.deliver(.statusReply(reply), to: peer)
    }

    private func control(_ request: ControlRequest, peer: PeerID, userID: String?, now time: Double, socket: ZMQSocket)
        throws
    {
        let client = userID ?? "loopback"
        if let refusal = CoordinatorServer.controlRefusal(userID: userID, action: request.action) {
            note("refused CONTROL \(request.action.rawValue) from \(client): not a client key", kind: "control_refused")
            _ = try? socket.deliver(.controlReply(.refused(request.requestId, refusal)), to: peer)
            return
        }
        if request.action == .sweeps, request.sweep.isEmpty {
            let summaries = sorted().map { $0.server.scheduler.sweepSummary(now: time) }
            let names = summaries.map(\.name).joined(separator: ", ")
            let message = summaries.count == 1 ? "1 sweep: \(names)" : "\(summaries.count) sweeps: \(names)"
            _ = try? socket.deliver(
                .controlReply(
                    ControlReply(
                        requestId: request.requestId, ok: true,
                        result: ControlResult(message: message, sweeps: summaries))), to: peer)
            return
        }
        guard let member = members[request.sweep] else {
            let served = sweepNames.isEmpty ? "none" : sweepNames.joined(separator: ", ")
            _ = try? socket.deliver(
                .controlReply(
                    .refused(
                        request.requestId, "no sweep named '\(request.sweep)' (this coordinator serves: \(served))")),
                to: peer)
            return
        }
        try member.server.control(request, peer: peer, userID: userID, socket: member.outbox)
    }

    // MARK: - Log

    func note(_ line: String?, kind: String) {
        if let line, let shown = throttle.admit(line, kind: kind, now: now) { log.warning("\(shown)") }
    }
}

/// A lab's problem with a sweep it is asked to serve (one line).
public struct LabError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The filter between a sweep's loop and the lab's ROUTER: the sweep's WELCOME, HEARTBEAT and DISCONNECT stay
/// here (the lab owns the sessions); everything else goes out.
final class LabOutbox: Outbox {
    var socket: ZMQSocket?

    func deliver(_ message: Message, to peer: PeerID) throws -> Bool {
        switch message {
        case .welcome, .heartbeat, .disconnect: return true
        default: return try socket?.deliver(message, to: peer) ?? false
        }
    }
}

extension Message {
    /// The cell a worker's message is about (METRICS, OFFER, DONE, FAILED, RELEASE, LOG); nil for others.
    var cellID: String? {
        switch self {
        case .metrics(let report): report.cell
        case .offer(let offer): offer.cell
        case .done(let done): done.cell
        case .failed(let failed): failed.cell
        case .release(let release): release.cell
        case .log(let output): output.cell
        default: nil
        }
    }
}
