// CoordinatorEndpoint: the ROUTER a coordinator serves on, with CURVE's ZAP gate and the handshake monitor.
import Logging
import WireProtocol

/// What a single-sweep coordinator and a lab share of their socket: made, configured and bound in one order (the
/// ZAP handler serving before the CURVE socket binds), polled, received from, and its refusals drained each loop.
/// Created, used and closed on the loop's thread.
final class CoordinatorEndpoint {
    let socket: ZMQSocket
    private let context: ZMQContext
    private let gate: CurveGate?
    private let handshakes: HandshakeMonitor

    /// A ROUTER with frames of at most `maxFrameBytes`, under CURVE with `security` (nil: plaintext).
    init(security: CoordinatorSecurity?, maxFrameBytes: Int64, logger: Logger) throws {
        let context = try ZMQContext()
        // The ZAP handler must be serving before the CURVE socket binds.
        let gate = try security.map { try CurveGate(security: $0, context: context, logger: logger) }
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context, type: .router)
        } catch {
            gate?.stop()
            throw error
        }
        do {
            // Refused handshakes (a plaintext client, a wrong server key, a ZAP refusal) are counted and logged.
            handshakes = try HandshakeMonitor(watching: socket, context: context)
        } catch {
            socket.close()
            gate?.stop()
            throw error
        }
        self.context = context
        self.gate = gate
        self.socket = socket
        do {
            try socket.configureCoordinatorRouter(maxFrameBytes: maxFrameBytes)
            if let gate { try socket.configureCurveServer(secretKey: gate.security.pair.secretKey) }
        } catch {
            close()
            throw error
        }
    }

    /// Binds `endpoint`; returns the endpoint bound (a `tcp://…:*` bind gets its port here).
    func bind(_ endpoint: String) throws -> String {
        try socket.bind(endpoint)
        return (try? socket.lastEndpoint) ?? endpoint
    }

    /// Waits up to `timeoutMs` for traffic, then gives each received message (at most `limit`) with the key's name
    /// under CURVE (nil without).
    func receive(timeoutMs: Int, limit: Int = 10_000, _ handle: ([FrameBytes], String?) throws -> Void) throws {
        _ = try ZMQPoller(sockets: [socket, handshakes.socket]).poll(timeoutMs: timeoutMs)
        var handled = 0
        while handled < limit, let received = try socket.receiveMessage() {
            handled += 1
            try handle(received.frames, gate == nil ? nil : received.userID)
        }
    }

    /// Re-reads the authorized keys when `reload`, then reports each refused key and failed handshake to `note`
    /// (a line, or nil to only count, and the counter's name). A ZAP refusal is logged by the gate, with the key's
    /// fingerprint; an aborted handshake is only counted.
    func drainRefusals(reload: Bool, _ note: (String?, String) -> Void) throws {
        if let gate {
            if reload { gate.reload() }
            for refusal in gate.drain() { note(refusal.line, refusal.counter) }
        }
        for failure in try handshakes.drain() {
            note(
                failure.kind == .authentication || failure.kind == .aborted ? nil : failure.description,
                failure.counterName)
        }
    }

    func close() {
        handshakes.close()
        socket.close()
        gate?.stop()
    }
}
