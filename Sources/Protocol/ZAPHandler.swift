// ZAPHandler: the ZeroMQ authentication handler (RFC 27) that admits only CURVE keys on an allowlist.
import CZeroMQ
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One authentication decision of the handler (the client's Z85 public key and its address).
public struct ZAPDecision: Sendable, Equatable {
    public let publicKey: String
    public let address: String
    public let mechanism: String
    public let accepted: Bool
}

/// Answers libzmq's ZAP requests on `inproc://zeromq.zap.01` from its own thread with a REP socket on the
/// server socket's context. Fails closed: anything but a CURVE client whose public key is on the allowlist gets
/// status 400. Start it before the CURVE server binds; the allowlist can be replaced at any time (SIGHUP), and
/// takes effect for the next connection. Decisions are queued for the owner's loop to log (`takeDecisions`).
public final class ZAPHandler: Sendable {
    /// The endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"
    private static let decisionLimit = 1000

    private struct State {
        /// Z85 public key → the User-Id answered for it.
        var allowlist: [String: String]
        var decisions: [ZAPDecision] = []
        var stopping = false
        var started = false
        var startError: ZMQError?
    }

    private let context: ZMQContext
    private let state: Mutex<State>
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// A handler for `context` admitting the Z85 public keys in `allowlist` (each key is its own User-Id); call
    /// `start()` before binding.
    public convenience init(context: ZMQContext, allowlist: Set<String>) {
        self.init(context: context, users: Dictionary(allowlist.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// A handler admitting the Z85 public keys of `users`, answering each one's value as the connection's User-Id
    /// (read from every message of that connection: `ZMQSocket.receiveMessage`).
    public init(context: ZMQContext, users: [String: String]) {
        self.context = context
        state = Mutex(State(allowlist: users))
    }

    /// Starts the thread and returns once its socket is bound (throws when it cannot be, e.g. a second handler).
    public func start() throws(ZMQError) {
        let thread = Thread { [self] in serve() }
        thread.name = "ablate-zap"
        thread.start()
        ready.wait()
        if let error = state.withLock({ $0.startError }) {
            finished.wait()
            throw error
        }
    }

    /// Stops the thread and waits for it to close its socket (later calls do nothing). Call it when done: the
    /// thread holds the handler and its context until then.
    public func stop() {
        let running = state.withLock { state -> Bool in
            state.stopping = true
            defer { state.started = false }
            return state.started
        }
        if running { finished.wait() }
    }

    /// Replaces the allowlist (Z85 public keys); connections already authenticated are not affected.
    public func replaceAllowlist(_ keys: Set<String>) {
        replaceUsers(Dictionary(keys.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Replaces the allowlist with `users` (Z85 public key → User-Id).
    public func replaceUsers(_ users: [String: String]) {
        state.withLock { $0.allowlist = users }
    }

    /// The current allowlist.
    public var allowlist: Set<String> { state.withLock { Set($0.allowlist.keys) } }

    /// The decisions made since the last call (at most 1000 are kept).
    public func takeDecisions() -> [ZAPDecision] {
        state.withLock { state in
            defer { state.decisions.removeAll() }
            return state.decisions
        }
    }

    // MARK: - The handler thread

    private func serve() {
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context, type: .rep)
            try socket.bind(Self.endpoint)
        } catch {
            state.withLock { $0.startError = error }
            ready.signal()
            finished.signal()
            return
        }
        state.withLock { $0.started = true }
        ready.signal()
        defer {
            socket.close()
            finished.signal()
        }
        while !state.withLock({ $0.stopping }) {
            do {
                _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 100)
                while let request = try socket.receive(partLimit: 16) {
                    try socket.send(reply(to: request), dontWait: false)
                }
            } catch {
                // Fail closed and keep serving; a pause keeps a persistent error from spinning this thread.
                usleep(10_000)
            }
        }
    }

    /// RFC 27: request = version, request id, domain, address, identity, mechanism, credentials…;
    /// reply = version, request id, status code, status text, user id, metadata.
    private func reply(to request: [[UInt8]]) -> [[UInt8]] {
        let text = { (index: Int) -> String in
            index < request.count ? String(decoding: request[index], as: UTF8.self) : ""
        }
        let requestId = request.count > 1 ? request[1] : []
        guard request.count >= 6, text(0) == "1.0" else {
            return [Array("1.0".utf8), requestId, Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        let mechanism = text(5)
        let key = mechanism == "CURVE" && request.count >= 7 ? CurveKeys.z85(request[6]) : nil
        let userID = state.withLock { state -> String? in
            let userID = key.flatMap { state.allowlist[$0] }
            let accepted = userID != nil
            if state.decisions.count < Self.decisionLimit {
                state.decisions.append(
                    ZAPDecision(publicKey: key ?? "", address: text(3), mechanism: mechanism, accepted: accepted))
            }
            return userID
        }
        if let userID {
            return [Array("1.0".utf8), requestId, Array("200".utf8), Array("OK".utf8), Array(userID.utf8), []]
        }
        return [Array("1.0".utf8), requestId, Array("400".utf8), Array("key not authorized".utf8), [], []]
    }
}
