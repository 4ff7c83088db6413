// SocketMessaging: sending and receiving whole multipart messages on a ZMQSocket.
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

extension ZMQSocket {
    /// Sends all `frames` as one multipart message. Returns false when the message cannot be queued now (`EAGAIN`:
    /// the peer's queue is full, or with `dontWait: false` never); throws for any other failure, e.g.
    /// `EHOSTUNREACH` from a ROUTER with `ZMQ_ROUTER_MANDATORY` whose peer is gone.
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = true) throws(ZMQError) -> Bool {
        guard !frames.isEmpty else { throw ZMQError(operation: "zmq_send: message has no frames", code: EINVAL) }
        return try send(frames, moreToCome: false, dontWait: dontWait)
    }

    /// Sends `head` and then `payload` as the last frame of one multipart message, the payload without a copy (see
    /// `ZMQPayload`). Returns false, sending nothing, when the message cannot be queued now (`EAGAIN`).
    @discardableResult
    public func send(_ head: [[UInt8]], then payload: ZMQPayload, dontWait: Bool = true) throws(ZMQError) -> Bool {
        guard try send(head, moreToCome: true, dontWait: dontWait) else { return false }
        // libzmq queues the rest of a message whose first frame it took, so only a payload sent alone can meet a full queue.
        guard try payload.send(on: openHandle("zmq_msg_send"), flags: dontWait ? ZMQ_DONTWAIT : 0) else {
            if head.isEmpty { return false }
            throw ZMQError(operation: "zmq_msg_send (payload after the head)", code: EAGAIN)
        }
        return true
    }

    /// ROUTER: sends `head` and then `payload` to the peer with routing id `identity`.
    @discardableResult
    public func send(to identity: [UInt8], head: [[UInt8]], then payload: ZMQPayload, dontWait: Bool = true)
        throws(ZMQError) -> Bool
    {
        try send([identity] + head, then: payload, dontWait: dontWait)
    }

    /// Sends `frames`, each but the last with `ZMQ_SNDMORE` (the last too when `moreToCome`).
    private func send(_ frames: [[UInt8]], moreToCome: Bool, dontWait: Bool) throws(ZMQError) -> Bool {
        let handle = try openHandle("zmq_send")
        let base: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        for (index, frame) in frames.enumerated() {
            let flags = base | (moreToCome || index < frames.count - 1 ? ZMQ_SNDMORE : 0)
            while true {
                let sent = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if sent >= 0 { break }
                let code = zmq_errno()
                if code == EINTR { continue }
                // Only the first frame can meet a full queue: libzmq then queues the rest of the message.
                if code == EAGAIN, index == 0 { return false }
                throw ZMQError(operation: "zmq_send (frame \(index))", code: code)
            }
        }
        return true
    }

    /// ROUTER: sends `frames` to the peer with routing id `identity`.
    @discardableResult
    public func send(to identity: [UInt8], frames: [[UInt8]], dontWait: Bool = true) throws(ZMQError) -> Bool {
        try send([identity] + frames, dontWait: dontWait)
    }

    /// Receives one whole multipart message (a ROUTER's starts with the peer's routing id), or nil when none is
    /// waiting (`EAGAIN`). At most `partLimit` parts are kept; the rest of a longer message is read and discarded,
    /// so it still shows too many parts to be a protocol message. Every part is copied into an array; see
    /// `receiveFrames` for the path that keeps large parts where libzmq received them.
    public func receive(dontWait: Bool = true, partLimit: Int = 16) throws(ZMQError) -> [[UInt8]]? {
        try receiveFrames(dontWait: dontWait, partLimit: partLimit, keepingPartsOver: Int.max)?.map(\.array)
    }

    /// `receive`, but a part larger than `keepingPartsOver` bytes is not copied: its `FrameBytes` keeps the libzmq
    /// message (a CHUNK's payload then goes from libzmq's buffer to the file and the hash directly).
    public func receiveFrames(dontWait: Bool = true, partLimit: Int = 16, keepingPartsOver threshold: Int = 16 << 10)
        throws(ZMQError) -> [FrameBytes]?
    {
        try receiveMessage(dontWait: dontWait, partLimit: partLimit, keepingPartsOver: threshold)?.frames
    }

    /// `receiveFrames`, with the User-Id of the connection the message came on (`MessageProperty.userID`, read
    /// from the first part that carries one).
    public func receiveMessage(dontWait: Bool = true, partLimit: Int = 16, keepingPartsOver threshold: Int = 16 << 10)
        throws(ZMQError) -> ReceivedFrames?
    {
        var userID: String?
        let handle = try openHandle("zmq_msg_recv")
        var parts: [FrameBytes] = []
        var message = zmq_msg_t()
        guard zmq_msg_init(&message) == 0 else { throw .current("zmq_msg_init") }
        defer { zmq_msg_close(&message) }
        var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        var received = 0
        while true {
            if zmq_msg_recv(&message, handle, flags) < 0 {
                let code = zmq_errno()
                if code == EINTR { continue }
                if code == EAGAIN, received == 0 { return nil }
                throw ZMQError(operation: "zmq_msg_recv (part \(received))", code: code)
            }
            received += 1
            // A ROUTER's routing-id part is made by the socket and carries no metadata: the peer's parts do.
            if userID == nil { userID = try MessageProperty.userID(&message) }
            // Read before a move empties the message.
            let more = zmq_msg_more(&message) == 1
            if parts.count < partLimit {
                let size = zmq_msg_size(&message)
                if size > threshold {
                    parts.append(try FrameBytes(moving: &message))
                } else if size > 0, let data = zmq_msg_data(&message) {
                    parts.append(FrameBytes(Array(UnsafeRawBufferPointer(start: data, count: size))))
                } else {
                    parts.append(FrameBytes([]))
                }
            }
            guard more else { return ReceivedFrames(frames: parts, userID: userID) }
            // The remaining parts of a multipart message have arrived with its first.
            flags = 0
        }
    }
}
