// Doorbell: an eventfd that another thread rings to wake a zmq_poll loop.
import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// An eventfd counter: any thread may `ring()` it; the polling thread watches `fd` for readability and then
/// `drain()`s it. Thread-safe (the kernel serialises eventfd reads and writes), hence `Sendable`.
public final class Doorbell: @unchecked Sendable {
    /// The file descriptor to poll for `POLLIN`.
    public let fd: Int32

    /// A non-blocking, close-on-exec eventfd.
    public init() throws(ZMQError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw ZMQError(operation: "eventfd", code: errno) }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// Wakes the poller. Rings while it is still readable add up and are drained at once.
    public func ring() {
        while eventfd_write(fd, 1) != 0, errno == EINTR {}
    }

    /// Clears pending rings; returns how many there were (0 when none).
    @discardableResult
    public func drain() -> UInt64 {
        var value: eventfd_t = 0
        while eventfd_read(fd, &value) != 0 {
            if errno != EINTR { return 0 }
        }
        return value
    }
}
