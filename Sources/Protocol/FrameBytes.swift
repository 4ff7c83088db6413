// FrameBytes: a frame's bytes, held in an array or, for a large received frame, in the libzmq message itself.
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes of one frame, immutable. Frames built in Swift hold an array; a large frame received by
/// `ZMQSocket.receiveFrames` keeps the message libzmq received it into, so a CHUNK's payload reaches the file and
/// the hash without being copied in user space (libzmq reads a large message straight into its own buffer). Reading
/// from several threads is safe; the message is closed when the last copy of the value goes away.
public struct FrameBytes: Sendable, Equatable {
    private enum Storage: Sendable {
        case array([UInt8])
        case message(ReceivedMessage)
    }

    private let storage: Storage

    public init(_ bytes: [UInt8]) {
        storage = .array(bytes)
    }

    /// Takes over `message`'s content, leaving `message` empty (`zmq_msg_move`).
    init(moving message: UnsafeMutablePointer<zmq_msg_t>) throws(ZMQError) {
        storage = .message(try ReceivedMessage(moving: message))
    }

    public var count: Int {
        switch storage {
        case .array(let bytes): bytes.count
        case .message(let message): message.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// The bytes as an array: free for an array-backed frame, a copy for a kept message.
    public var array: [UInt8] {
        switch storage {
        case .array(let bytes): bytes
        case .message(let message): Array(message.bytes)
        }
    }

    /// Whether the bytes live in a received libzmq message (no user-space copy was made).
    public var isKeptMessage: Bool {
        if case .message = storage { return true }
        return false
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .array(let bytes):
            // A closure-based rethrow would lose the typed error; go through a Result instead.
            let result: Result<R, E> = bytes.withUnsafeBytes { buffer in
                do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
            }
            return try result.get()
        case .message(let message):
            return try body(message.bytes)
        }
    }

    public static func == (left: FrameBytes, right: FrameBytes) -> Bool {
        guard left.count == right.count else { return false }
        return left.withUnsafeBytes { a in right.withUnsafeBytes { b in a.elementsEqual(b) } }
    }
}

/// A received `zmq_msg_t` owned by Swift: closed (its buffer released to libzmq) on deinit. The content is never
/// written after the receive, so concurrent reads are safe.
private final class ReceivedMessage: @unchecked Sendable {
    /// Heap-allocated: a `zmq_msg_t` must not move once initialized.
    private let message: UnsafeMutablePointer<zmq_msg_t>
    let bytes: UnsafeRawBufferPointer

    init(moving source: UnsafeMutablePointer<zmq_msg_t>) throws(ZMQError) {
        message = .allocate(capacity: 1)
        guard zmq_msg_init(message) == 0 else {
            message.deallocate()
            throw .current("zmq_msg_init")
        }
        guard zmq_msg_move(message, source) == 0 else {
            let error = ZMQError.current("zmq_msg_move")
            zmq_msg_close(message)
            message.deallocate()
            throw error
        }
        bytes = UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message))
    }

    var count: Int { bytes.count }

    deinit {
        zmq_msg_close(message)
        message.deallocate()
    }
}
