// ZMQPayload: a frame's bytes, allocated by libzmq and written in place or lent by their owner, sent without a copy.
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The last frame of a large message, written where libzmq will send it from: `zmq_msg_init_size` allocates it,
/// the caller fills it (e.g. `pread` straight into it), and `ZMQSocket.send(_:then:)` gives it to libzmq, which
/// takes ownership without copying it (`zmq_send` would copy every byte into a message of its own first). Bytes that
/// already exist (a mapped file's) can be lent instead (`init(borrowing:owner:)`). A payload
/// is sent at most once; one that is never sent is freed when released. Not `Sendable`: fill and send it on the
/// socket's thread.
public final class ZMQPayload {
    /// Heap-allocated so its address never changes (libzmq's `zmq_msg_t` must not be moved once initialized).
    let message: UnsafeMutablePointer<zmq_msg_t>
    public let count: Int
    private(set) var sent = false
    /// Bytes lent by someone else (see `init(borrowing:owner:)`): never written.
    private let borrowed: Bool

    /// Uninitialized bytes, `count` of them.
    public init(count: Int) throws(ZMQError) {
        precondition(count >= 0, "a payload of \(count) bytes")
        message = .allocate(capacity: 1)
        guard zmq_msg_init_size(message, count) == 0 else {
            let error = ZMQError.current("zmq_msg_init_size(\(count))")
            message.deallocate()
            throw error
        }
        self.count = count
        borrowed = false
    }

    /// `bytes` sent as they are, without a copy: libzmq reads them when it writes the frame to the socket and then
    /// releases `owner`, which must keep them valid and unchanged until then (`zmq_msg_init_data`). The release
    /// may come from libzmq's I/O thread.
    public init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject & Sendable) throws(ZMQError) {
        message = .allocate(capacity: 1)
        count = bytes.count
        borrowed = true
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            guard zmq_msg_init_size(message, 0) == 0 else {
                let error = ZMQError.current("zmq_msg_init_size(0)")
                message.deallocate()
                throw error
            }
            return
        }
        let hint = Unmanaged<AnyObject>.passRetained(owner).toOpaque()
        let release: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = { _, hint in
            if let hint { Unmanaged<AnyObject>.fromOpaque(hint).release() }
        }
        guard zmq_msg_init_data(message, UnsafeMutableRawPointer(mutating: base), bytes.count, release, hint) == 0
        else {
            let error = ZMQError.current("zmq_msg_init_data(\(bytes.count))")
            Unmanaged<AnyObject>.fromOpaque(hint).release()
            message.deallocate()
            throw error
        }
    }

    deinit {
        // After a successful send libzmq has emptied the message; closing an empty message is a no-op.
        zmq_msg_close(message)
        message.deallocate()
    }

    /// The bytes, to be written before the payload is sent.
    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E)
        -> R
    {
        precondition(!sent, "a sent payload's bytes belong to libzmq")
        precondition(!borrowed, "a borrowed payload's bytes are read-only")
        return try body(UnsafeMutableRawBufferPointer(start: zmq_msg_data(message), count: count))
    }

    /// Hands the bytes to libzmq as the last frame of the message being sent on `handle`. Returns false on `EAGAIN`.
    func send(on handle: UnsafeMutableRawPointer, flags: Int32) throws(ZMQError) -> Bool {
        precondition(!sent, "a payload is sent once")
        while zmq_msg_send(message, handle, flags) < 0 {
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return false }
            throw ZMQError(operation: "zmq_msg_send (payload of \(count) bytes)", code: code)
        }
        sent = true
        return true
    }
}
