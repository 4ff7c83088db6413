// Poller: zmq_poll over sockets and raw file descriptors (e.g. a Doorbell) for readability.
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// What a poll found readable, by position in the poller's lists.
public struct PollResult: Sendable, Equatable {
    /// Indices into `ZMQPoller.sockets` with a message waiting.
    public var readableSockets: [Int]
    /// Indices into `ZMQPoller.fds` that are readable.
    public var readableFDs: [Int]

    public init(readableSockets: [Int] = [], readableFDs: [Int] = []) {
        self.readableSockets = readableSockets
        self.readableFDs = readableFDs
    }

    /// True when nothing is readable (timeout or interrupted).
    public var isEmpty: Bool { readableSockets.isEmpty && readableFDs.isEmpty }

    public func socketIsReadable(_ index: Int) -> Bool { readableSockets.contains(index) }
    public func fdIsReadable(_ index: Int) -> Bool { readableFDs.contains(index) }
}

/// Waits for `POLLIN` on a list of sockets and file descriptors. Not `Sendable`: use it on its sockets' thread.
public struct ZMQPoller {
    public let sockets: [ZMQSocket]
    public let fds: [Int32]

    public init(sockets: [ZMQSocket], fds: [Int32] = []) {
        self.sockets = sockets
        self.fds = fds
    }

    /// Waits up to `timeoutMs` milliseconds (−1: forever, 0: just look). An interrupted wait returns an empty
    /// result; a closed socket throws `ENOTSOCK`.
    public func poll(timeoutMs: Int) throws(ZMQError) -> PollResult {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count + fds.count)
        for socket in sockets {
            items.append(
                zmq_pollitem_t(socket: try socket.openHandle("zmq_poll"), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        for fd in fds {
            items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        let timeout = timeoutMs < 0 ? -1 : timeoutMs
        let count = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), timeout) }
        if count < 0 {
            if zmq_errno() == EINTR { return PollResult() }
            throw .current("zmq_poll")
        }
        var result = PollResult()
        for (index, item) in items.enumerated() where item.revents & Int16(ZMQ_POLLIN) != 0 {
            if index < sockets.count {
                result.readableSockets.append(index)
            } else {
                result.readableFDs.append(index - sockets.count)
            }
        }
        return result
    }
}
