// LabServer+Submit: SUBMIT and UPLOAD on a lab — checked and opened off the loop's thread, then served.
import AblateSupport
import Foundation
import Logging
import WireProtocol

/// Checks and opens submitted sweeps one at a time on its own queue (hashing a dataset takes seconds per GB; the
/// loop keeps answering workers meanwhile) and hands the outcomes back to the loop, which alone changes the lab.
final class SubmissionOpener: @unchecked Sendable {
    /// A SUBMIT checked (and, when accepted, written and opened), with where its reply goes.
    struct Outcome {
        var request: SubmitRequest
        var peer: PeerID
        var client: String
        var decision: SubmitDecision
        /// The opened sweep of an accepted submission; nil otherwise or when opening failed (`failure`).
        var setup: CoordinatorSetup?
        var failure: String?
    }

    // The desk and the open function are used only on `queue`; `finished` only under `lock`.
    private let desk: SubmissionDesk
    private let open: (Submission, String) throws -> CoordinatorSetup
    private let directory: String
    private let queue = DispatchQueue(label: "ablate.lab.submissions")
    private let lock = NSLock()
    private var finished: [Outcome] = []
    private var inFlight = 0

    init(desk: SubmissionDesk, directory: String, open: @escaping (Submission, String) throws -> CoordinatorSetup) {
        self.desk = desk
        self.directory = directory
        self.open = open
    }

    /// Whether a submission is being checked or opened.
    var isBusy: Bool { lock.withLock { inFlight > 0 } }

    /// Checks `request` against the names served (`existing`); an accepted sweep is written to
    /// `LAB/sweeps/<name>/submission.json` (so a restart serves it even if this process dies next), then opened.
    func start(_ request: SubmitRequest, peer: PeerID, client: String, existing: Set<String>, now: Double) {
        lock.withLock { inFlight += 1 }
        queue.async { [self] in
            var outcome = Outcome(
                request: request, peer: peer, client: client,
                decision: desk.submit(request, client: client, existing: existing, now: now))
            if case .accepted(let submission, _) = outcome.decision {
                let sweepDirectory = StateLayout.sweepDirectory(lab: directory, name: submission.name)
                let existed = FileManager.default.fileExists(atPath: sweepDirectory)
                do {
                    try submission.write(sweepDirectory: sweepDirectory)
                    FaultPoint.shared.reach(.submit)
                    outcome.setup = try open(submission, sweepDirectory)
                } catch {
                    outcome.failure = "\(error)"
                    // Nothing of a sweep that could not be opened is left to be tried at every start.
                    if !existed { try? FileManager.default.removeItem(atPath: sweepDirectory) }
                }
            }
            lock.withLock {
                finished.append(outcome)
                inFlight -= 1
            }
        }
    }

    /// The outcomes since the last call, in order.
    func take() -> [Outcome] {
        lock.withLock {
            defer { finished.removeAll() }
            return finished
        }
    }
}

extension LabServer {
    /// Why a peer with `userID` may not submit or upload, or nil when it may: with CURVE only keys in `clients/`.
    static func submitRefusal(userID: String?) -> String? {
        guard let userID, CoordinatorServer.role(of: userID) != .client else { return nil }
        return "key \(userID) may not submit: only keys in clients/ may"
    }

    /// One SUBMIT: refused for a key that is not a client's; the same submission of a sweep served already is
    /// answered as accepted again (a client that lost the reply, e.g. to a coordinator restart, just asks again);
    /// anything else goes to the opener.
    func submit(_ request: SubmitRequest, peer: PeerID, userID: String?, now time: Double, socket: ZMQSocket) {
        let client = userID ?? "loopback"
        guard let opener = submissions else {
            return reply(
                peer,
                SubmitReply(requestId: request.requestId, ok: false, error: "this coordinator takes no submissions"),
                socket)
        }
        if let refusal = Self.submitRefusal(userID: userID) {
            note("refused SUBMIT from \(client): not a client key", kind: "submit_refused")
            return reply(peer, SubmitReply(requestId: request.requestId, ok: false, error: refusal), socket)
        }
        let files = Dictionary(request.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        for member in members.values {
            guard let submission = member.submission, submission.text == request.sweepText, submission.files == files
            else { continue }
            return reply(
                peer,
                SubmitReply(
                    requestId: request.requestId, ok: true, sweep: member.name,
                    cells: member.server.scheduler.cells.count), socket)
        }
        opener.start(request, peer: peer, client: client, existing: Set(members.keys), now: time)
    }

    /// Serves the sweeps the opener has opened and answers their clients.
    func finishSubmissions(now time: Double, socket: ZMQSocket) {
        guard let opener = submissions else { return }
        for outcome in opener.take() {
            var answer = outcome.decision.reply(requestId: outcome.request.requestId, chunkBytes: settings.chunkBytes)
            if case .accepted(let submission, let cells) = outcome.decision {
                do {
                    guard let setup = outcome.setup else {
                        throw LabError(outcome.failure ?? "the sweep could not be opened")
                    }
                    let server = try add(setup, priority: submission.priority, submittedAt: submission.submittedAt)
                    members[submission.name]?.submission = submission
                    onAdded?(submission.name, server)
                    log.info(
                        "sweep \(submission.name) submitted by \(outcome.client): \(cells) cells, priority \(submission.priority)"
                    )
                } catch {
                    try? outcome.setup?.ledger.close()
                    answer = SubmitReply(
                        requestId: outcome.request.requestId, ok: false,
                        error: "sweep \(submission.name) was accepted but cannot be served: \(error)")
                    log.error("submission of \(submission.name) by \(outcome.client) failed: \(error)")
                }
            } else if case .refused(let problems) = outcome.decision {
                log.notice("submission by \(outcome.client) refused: \(problems.first ?? "")")
            }
            reply(outcome.peer, answer, socket)
        }
    }

    /// One UPLOAD from a client (or loopback without CURVE): stored by the desk; a worker key's is refused.
    func upload(_ upload: Upload, peer: PeerID, userID: String?, socket: ZMQSocket) {
        guard let desk = uploadDesk, Self.submitRefusal(userID: userID) == nil else {
            note("refused UPLOAD from \(userID ?? "loopback")", kind: "upload_refused")
            let ack = UploadAck(
                sha256: upload.sha256, nextOffset: 0, status: .refused,
                reason: uploadDesk == nil ? "this coordinator takes no uploads" : "only keys in clients/ may upload")
            _ = try? socket.deliver(.uploadAck(ack), to: peer)
            return
        }
        let ack = desk.upload(upload)
        FaultPoint.shared.reach(.upload)
        _ = try? socket.deliver(.uploadAck(ack), to: peer)
    }

    private func reply(_ peer: PeerID, _ reply: SubmitReply, _ socket: ZMQSocket) {
        _ = try? socket.deliver(.submitReply(reply), to: peer)
    }
}
