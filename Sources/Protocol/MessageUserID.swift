// MessageUserID: receiving a multipart message with the User-Id the ZAP handler gave its connection (zmq_msg_gets).
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A received multipart message and the User-Id of the connection it came on (nil without ZAP authentication).
public struct ReceivedFrames: Sendable {
    public var frames: [FrameBytes]
    public var userID: String?
}

/// `zmq_msg_gets` for the one property Ablate reads.
enum MessageProperty {
    /// The `User-Id` the ZAP handler answered for the connection `message` arrived on; nil when the connection has
    /// none (no ZAP, or an empty one).
    /// - Throws: `ZMQError` for a failure other than the property being absent (`EINVAL`).
    static func userID(_ message: UnsafeMutablePointer<zmq_msg_t>) throws(ZMQError) -> String? {
        guard let value = zmq_msg_gets(message, "User-Id") else {
            let code = zmq_errno()
            if code == EINVAL { return nil }
            throw ZMQError(operation: "zmq_msg_gets(User-Id)", code: code)
        }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
