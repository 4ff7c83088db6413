// Socket: typed wrappers of a libzmq context and socket; every C call's result is checked once, here.
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A libzmq context. libzmq documents contexts as thread-safe, so this class is `Sendable`. It is terminated when
/// the last reference goes; sockets keep their context alive, so termination never waits on an open socket.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// A new context with `ZMQ_BLOCKY=0`: termination does not wait for unsent messages.
    public init() throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw .current("zmq_ctx_new") }
        guard zmq_ctx_set(handle, ZMQ_BLOCKY, 0) == 0 else {
            let error = ZMQError.current("zmq_ctx_set(ZMQ_BLOCKY)")
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        while zmq_ctx_term(handle) != 0, zmq_errno() == EINTR {}
    }
}

/// Sockets must stay on the thread that made them; this keeps them from being sent elsewhere.
@available(*, unavailable)
extension ZMQSocket: Sendable {}

/// The socket types the protocol uses.
/// A ROUTER routing id: the peer a message came from or goes to.
public typealias PeerID = [UInt8]

public enum SocketType: Sendable {
    case router, dealer, rep, req, pair

    var rawValue: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .rep: ZMQ_REP
        case .req: ZMQ_REQ
        case .pair: ZMQ_PAIR
        }
    }
}

/// A libzmq socket. Not `Sendable`: create, use and close it on one thread (the libzmq rule). `ZMQ_LINGER` is 0
/// from creation; the socket is closed by `close()` or when released.
public final class ZMQSocket {
    public let type: SocketType
    private let context: ZMQContext
    private var handle: UnsafeMutableRawPointer?

    public init(_ context: ZMQContext, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else { throw .current("zmq_socket") }
        self.type = type
        self.context = context
        self.handle = handle
        try setOption(ZMQ_LINGER, Int32(0))
    }

    deinit { close() }

    /// Closes the socket; later calls do nothing, and other operations then throw `ENOTSOCK`.
    public func close() {
        if let handle {
            zmq_close(handle)
            self.handle = nil
        }
    }

    /// True until `close()`.
    public var isOpen: Bool { handle != nil }

    /// The open handle, for `zmq_poll`.
    func openHandle(_ operation: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(operation: operation, code: ENOTSOCK) }
        return handle
    }

    // MARK: - Options

    /// Sets an `int` option (most options: LINGER, ROUTER_MANDATORY, HEARTBEAT_IVL, …).
    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        try setRaw(option, &value, MemoryLayout<Int32>.size)
    }

    /// Sets an `int64_t` option (`ZMQ_MAXMSGSIZE`).
    public func setOption(_ option: Int32, _ value: Int64) throws(ZMQError) {
        var value = value
        try setRaw(option, &value, MemoryLayout<Int64>.size)
    }

    /// Sets a binary option (`ZMQ_ROUTING_ID`, 32-byte CURVE keys).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let handle = try openHandle("zmq_setsockopt(\(option))")
        let result = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard result == 0 else { throw .current("zmq_setsockopt(\(option))") }
    }

    /// Sets a string option (`ZMQ_ZAP_DOMAIN`, Z85 CURVE keys), passed as its UTF-8 bytes.
    public func setOption(_ option: Int32, string: String) throws(ZMQError) {
        try setOption(option, bytes: Array(string.utf8))
    }

    /// Reads an `int` option.
    public func intOption(_ option: Int32) throws(ZMQError) -> Int32 {
        let handle = try openHandle("zmq_getsockopt(\(option))")
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, option, &value, &size) == 0 else { throw .current("zmq_getsockopt(\(option))") }
        return value
    }

    private func setRaw(_ option: Int32, _ value: UnsafeRawPointer, _ size: Int) throws(ZMQError) {
        let handle = try openHandle("zmq_setsockopt(\(option))")
        guard zmq_setsockopt(handle, option, value, size) == 0 else { throw .current("zmq_setsockopt(\(option))") }
    }

    // MARK: - Endpoints

    /// Binds to an endpoint (`tcp://127.0.0.1:*` picks a free port; read it back with `lastEndpoint`).
    public func bind(_ endpoint: String) throws(ZMQError) {
        let handle = try openHandle("zmq_bind(\(endpoint))")
        guard zmq_bind(handle, endpoint) == 0 else { throw .current("zmq_bind(\(endpoint))") }
    }

    /// Starts reporting `events` (a mask of `ZMQ_EVENT_*`) of this socket to a PAIR socket that connects to
    /// `endpoint` (an `inproc://` name); `events` 0 stops it (`zmq_socket_monitor`).
    public func monitor(_ endpoint: String?, events: Int32) throws(ZMQError) {
        let handle = try openHandle("zmq_socket_monitor(\(endpoint ?? "off"))")
        guard zmq_socket_monitor(handle, endpoint, events) == 0 else {
            throw .current("zmq_socket_monitor(\(endpoint ?? "off"))")
        }
    }

    /// Connects to an endpoint; libzmq connects (and reconnects) in the background.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let handle = try openHandle("zmq_connect(\(endpoint))")
        guard zmq_connect(handle, endpoint) == 0 else { throw .current("zmq_connect(\(endpoint))") }
    }

    /// The endpoint last bound or connected, with the actual port (`tcp://127.0.0.1:40123`).
    public var lastEndpoint: String {
        get throws(ZMQError) {
            let handle = try openHandle("zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
            var buffer = [UInt8](repeating: 0, count: 1024)
            var size = buffer.count
            guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
                throw .current("zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
            }
            let end = buffer.firstIndex(of: 0) ?? min(size, buffer.count)
            return String(decoding: buffer[..<end], as: UTF8.self)
        }
    }
}
