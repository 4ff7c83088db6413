// HandshakeMonitor: the refused connection handshakes of one socket (plaintext client, wrong server key, ZAP refusal).
import CZeroMQ

/// One connection whose ZMTP/CURVE handshake failed at a monitored socket.
public struct HandshakeFailure: Sendable, Equatable {
    /// Why the handshake failed, as far as libzmq tells.
    public enum Kind: String, Sendable, CaseIterable {
        /// The client speaks another security mechanism: a plaintext client at a CURVE server (or the reverse).
        case mechanism
        /// A CURVE message could not be opened: the client uses another server public key (or the data is corrupt).
        case cryptographic
        /// Another ZMTP protocol violation.
        case protocolError = "protocol"
        /// The ZAP handler refused the client (its key is not authorized).
        case authentication
        /// The client closed the connection before its handshake ended (a port probe, or `ablate worker` checking
        /// its endpoint before it starts): counted, never logged as a refusal.
        case aborted
        /// Failed without detail (for instance the handshake timed out).
        case other
    }

    public let kind: Kind
    /// libzmq's event value: the protocol error code, the ZAP status code, or an errno.
    public let value: UInt32

    public init(kind: Kind, value: UInt32) {
        self.kind = kind
        self.value = value
    }

    /// The counter this refusal is added to: `handshake_refused_<kind>` (`handshake_aborted` for an aborted one).
    public var counterName: String { kind == .aborted ? "handshake_aborted" : "handshake_refused_\(kind.rawValue)" }

    /// One line saying what was refused and the likely reason.
    public var description: String {
        switch kind {
        case .mechanism:
            "refused a connection: the client does not use CURVE (a plaintext client, or another mechanism)"
        case .cryptographic:
            "refused a connection: the client's CURVE handshake does not decrypt (it uses another server public key)"
        case .protocolError: "refused a connection: handshake protocol error 0x\(String(value, radix: 16))"
        case .authentication: "refused a connection: the client's key is not authorized (ZAP status \(value))"
        case .aborted: "a connection closed before its handshake ended (\(ZeroMQ.errorText(Int32(bitPattern: value))))"
        case .other: "refused a connection: the handshake failed (\(ZeroMQ.errorText(Int32(bitPattern: value))))"
        }
    }
}

/// Watches one socket's handshake failures through `zmq_socket_monitor` and an `inproc` PAIR socket. Like the
/// socket it watches, it is created, drained and closed on one thread.
public final class HandshakeMonitor {
    /// The `ZMQ_EVENT_*` mask watched.
    static let events: Int32 =
        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH

    private let watched: ZMQSocket
    private let pair: ZMQSocket

    /// Starts monitoring `socket` (on `context`, the socket's own) before it binds or connects.
    public init(watching socket: ZMQSocket, context: ZMQContext) throws(ZMQError) {
        let endpoint = "inproc://ablate-handshake-monitor-\(UInt(bitPattern: ObjectIdentifier(socket).hashValue))"
        try socket.monitor(endpoint, events: Self.events)
        let pair: ZMQSocket
        do {
            pair = try ZMQSocket(context, type: .pair)
            try pair.connect(endpoint)
        } catch {
            try? socket.monitor(nil, events: 0)
            throw error
        }
        watched = socket
        self.pair = pair
    }

    /// The socket to add to a poll set (readable when a refusal is waiting).
    public var socket: ZMQSocket { pair }

    /// The refusals reported since the last call (without waiting).
    public func drain() throws(ZMQError) -> [HandshakeFailure] {
        var failures: [HandshakeFailure] = []
        while let frames = try pair.receive(partLimit: 2) {
            if let failure = Self.failure(frames) { failures.append(failure) }
        }
        return failures
    }

    /// Stops monitoring and closes the PAIR socket (later calls do nothing).
    public func close() {
        guard pair.isOpen else { return }
        if watched.isOpen { try? watched.monitor(nil, events: 0) }
        pair.close()
    }

    deinit { close() }

    /// A monitor event: frame 0 is the event (u16) and its value (u32) in the host's byte order, frame 1 the endpoint.
    static func failure(_ frames: [[UInt8]]) -> HandshakeFailure? {
        guard let head = frames.first, head.count >= 6 else { return nil }
        let event = head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
        let value = head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
        switch Int32(event) {
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            switch Int32(bitPattern: value) {
            case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: return HandshakeFailure(kind: .mechanism, value: value)
            case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: return HandshakeFailure(kind: .cryptographic, value: value)
            default: return HandshakeFailure(kind: .protocolError, value: value)
            }
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return HandshakeFailure(kind: .authentication, value: value)
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            let code = Int32(bitPattern: value)
            return HandshakeFailure(kind: code == ECONNRESET || code == EPIPE ? .aborted : .other, value: value)
        default: return nil
        }
    }
}
