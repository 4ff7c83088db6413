// LabStandIn: a ROUTER on a thread that answers SUBMIT and UPLOAD with a real SubmissionDesk (the lab's loop, in small).
import CoordinatorKit
import Foundation
import TestSupport
import WireProtocol

/// Stands in for the lab coordinator's server loop in `ablate submit` tests: every SUBMIT and UPLOAD goes to a
/// `SubmissionDesk` over `LAB`, and its answer goes back; it counts what arrived. `uploadDelay` slows each UPLOAD
/// down (so a test can kill the client mid-upload) and `corrupt` flips the first byte of every payload.
final class LabStandIn: @unchecked Sendable {
    let endpoint: String
    let desk: SubmissionDesk
    /// Kept: the directory goes away with its last reference.
    let lab: TemporaryDirectory
    private let lock = NSLock()
    private var stopped = false
    private var thread: Thread?
    private var received: (submits: Int, uploads: Int, bytes: Int64, accepted: [String]) = (0, 0, 0, [])
    var uploadDelay: TimeInterval = 0
    var corrupt = false

    init(lab: TemporaryDirectory) {
        self.lab = lab
        endpoint = "ipc://\(lab.file("lab.sock"))"
        desk = SubmissionDesk(labDirectory: lab.path, uploads: UploadStore(labDirectory: lab.path))
    }

    /// SUBMITs, UPLOADs, UPLOAD payload bytes received, and the names of the sweeps accepted, so far.
    var counts: (submits: Int, uploads: Int, bytes: Int64, accepted: [String]) {
        lock.withLock { received }
    }

    /// Binds the ROUTER (on its own thread, which owns it) and returns once it listens.
    func start() throws {
        let bound = DispatchSemaphore(value: 0)
        let failure = Failure()
        let thread = Thread { [self] in
            let router: ZMQSocket
            do {
                let context = try ZMQContext()
                router = try ZMQSocket(context, type: .router)
                try router.configureCoordinatorRouter(maxFrameBytes: FrameLimits().socketMaxFrameBytes)
                try router.bind(endpoint)
            } catch {
                failure.error = "\(error)"
                bound.signal()
                return
            }
            bound.signal()
            defer { router.close() }
            while !lock.withLock({ stopped }) {
                _ = try? ZMQPoller(sockets: [router]).poll(timeoutMs: 50)
                while let frames = try? router.receiveFrames(), let peer = frames.first?.array {
                    guard let message = try? MessageCodec.decode(Array(frames.dropFirst())),
                        let reply = answer(message)
                    else { continue }
                    _ = try? router.send(to: peer, frames: MessageCodec.encode(reply), dontWait: false)
                }
            }
        }
        self.thread = thread
        thread.start()
        bound.wait()
        if let error = failure.error { throw SubmitPackageError("lab stand-in: \(error)") }
    }

    /// The bind error of the stand-in's thread, read after it signalled.
    private final class Failure: @unchecked Sendable {
        var error: String?
    }

    func stop() {
        lock.withLock { stopped = true }
        while thread?.isFinished == false { Thread.sleep(forTimeInterval: 0.01) }
    }

    private func answer(_ message: Message) -> Message? {
        switch message {
        case .submit(let request):
            lock.withLock { received.submits += 1 }
            let decision = desk.submit(request, client: "loopback", existing: [], now: Date().timeIntervalSince1970)
            if case .accepted(let submission, _) = decision {
                lock.withLock { received.accepted.append(submission.name) }
            }
            return .submitReply(decision.reply(requestId: request.requestId, chunkBytes: 64 * 1024))
        case .upload(var upload):
            lock.withLock {
                received.uploads += 1
                received.bytes += Int64(upload.payload.count)
            }
            if uploadDelay > 0 { Thread.sleep(forTimeInterval: uploadDelay) }
            if corrupt, !upload.payload.isEmpty {
                var bytes = upload.payload.array
                bytes[0] ^= 0xFF
                upload.payload = FrameBytes(bytes)
            }
            return .uploadAck(desk.upload(upload))
        default:
            return nil
        }
    }
}
