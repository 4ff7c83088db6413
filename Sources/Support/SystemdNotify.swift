// SystemdNotify: the sd_notify protocol written directly — READY/STATUS/WATCHDOG/STOPPING datagrams to $NOTIFY_SOCKET.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Tells systemd (a `Type=notify` unit) how the process is doing, by sending datagrams to the AF_UNIX socket named
/// in `$NOTIFY_SOCKET` (a leading `@` names the abstract namespace). Without that variable every call does nothing.
/// With `$WATCHDOG_USEC` (and `$WATCHDOG_PID` unset or this process), `tick` sends `WATCHDOG=1` every half period.
/// Use it from one thread (the event loop); it is not `Sendable`.
public final class SystemdNotifier {
    /// The socket path (nil when not run by systemd).
    public let socketPath: String?
    /// Seconds between watchdog pings (half of `WATCHDOG_USEC`), nil when no watchdog is asked for.
    public let watchdogInterval: Double?
    private var lastWatchdog = -Double.infinity
    private var lastStatus: String?
    private var lastStatusTime = -Double.infinity
    private let clockStart = Date()

    /// Reads the variables from `environment` (the process's by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if path != nil, pidMatches, let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0 {
            watchdogInterval = Double(usec) / 2_000_000
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether systemd listens.
    public var isActive: Bool { socketPath != nil }

    /// `READY=1` (with a status line when given).
    public func ready(status: String? = nil) {
        send("READY=1" + (status.map { "\nSTATUS=\($0)" } ?? ""))
        if let status { lastStatus = status }
    }

    /// `STOPPING=1` (with a status line when given).
    public func stopping(status: String? = nil) {
        send("STOPPING=1" + (status.map { "\nSTATUS=\($0)" } ?? ""))
    }

    /// Called from the event loop: sends `WATCHDOG=1` when half the watchdog period has passed, and `STATUS=`
    /// when `status` changed (at most once a second).
    public func tick(status: String? = nil) {
        let now = Date().timeIntervalSince(clockStart)
        if let interval = watchdogInterval, now - lastWatchdog >= interval {
            lastWatchdog = now
            send("WATCHDOG=1")
        }
        if let status, status != lastStatus, now - lastStatusTime >= 1 {
            lastStatus = status
            lastStatusTime = now
            send("STATUS=\(status)")
        }
    }

    /// Sends one datagram; failures are ignored (systemd may be gone while stopping).
    public func send(_ text: String) {
        guard let socketPath else { return }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in pathBytes.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
    }
}
