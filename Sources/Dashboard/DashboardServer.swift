// DashboardServer: the dashboard's HTTP listener (Hummingbird on SwiftNIO) with its refresher thread, started and stopped from synchronous code.
import CoordinatorKit
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Serves the dashboard of one state directory at `--http HOST:PORT`.
///
/// Threads: sockets and HTTP parsing run on SwiftNIO's event-loop threads (Hummingbird); the handlers
/// (`DashboardResponder`) only copy bytes out of the snapshot; the snapshot is rebuilt on the refresher's own
/// `Thread` (`DashboardRefresher`), the only place that touches SQLite or files. The task that awaits the
/// application does no work of its own.
public final class DashboardServer: @unchecked Sendable {
    /// Where it listens.
    public let address: HTTPBindAddress
    /// The snapshot the handlers serve and the refresher replaces.
    public let store = DashboardSnapshotStore()
    private let access: DashboardAccess
    private let logger: Logger
    private var task: Task<Void, Never>?
    private var group: ServiceGroup?
    /// Set when the application's task has ended.
    private let ended = ListenOutcome()
    private var refresher: DashboardRefresher?

    /// A server for `address`; `token` is required by the caller's rule for a non-loopback address.
    public init(address: HTTPBindAddress, token: DashboardToken?, logger: Logger) {
        self.address = address
        access = DashboardAccess(bind: address, token: token)
        self.logger = logger
    }

    /// Binds and starts listening; returns once the socket listens. Throws a one-line
    /// `DashboardConfigurationError` when the address cannot be bound within `timeout` seconds.
    public func listen(timeout: Double = 10) throws(DashboardConfigurationError) {
        let outcome = ListenOutcome()
        // Hummingbird's own lines (one per start, per connection error) only from warnings up.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let application = Application(
            responder: DashboardResponder(access: access, store: store),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { _ in outcome.set(nil) },
            logger: serverLogger)
        // Run in a group of our own (no signal handlers: the command owns SIGINT/SIGTERM) so that `stop` can shut
        // the server down gracefully instead of cancelling it.
        let group = ServiceGroup(configuration: .init(services: [.init(service: application)], logger: serverLogger))
        self.group = group
        let ended = self.ended
        task = Task.detached {
            do {
                try await group.run()
            } catch {
                outcome.set("\(error)")
            }
            ended.set(nil)
        }
        switch outcome.wait(timeout: timeout) {
        case .some(nil):
            logger.info("dashboard on http://\(address)/")
        case .some(.some(let reason)):
            task = nil
            throw DashboardConfigurationError(message: "--http \(address): cannot listen: \(Self.shortReason(reason))")
        case .none:
            task?.cancel()
            task = nil
            throw DashboardConfigurationError(message: "--http \(address): not listening after \(Int(timeout)) s")
        }
    }

    /// Starts refreshing the snapshot from `stateDirectory` on a dedicated thread; `logger` gets a line per new
    /// refresh error (the server's logger when nil).
    public func startRefreshing(
        stateDirectory: String, interval: Double = 1, logger: Logger? = nil,
        notes: @escaping DashboardRefresher.Notes = { _, _, _ in [] }
    ) {
        let refresher = DashboardRefresher(
            stateDirectory: stateDirectory, store: store, interval: interval, logger: logger ?? self.logger,
            notes: notes)
        self.refresher = refresher
        refresher.start()
    }

    /// Stops the refresher and closes its ledger connection; the listener keeps serving the last snapshot. Called
    /// before the coordinator closes its ledger, so that the writer is the last connection and SQLite removes its
    /// WAL files as it does without a dashboard.
    public func stopRefreshing() {
        refresher?.stop()
        refresher = nil
    }

    /// Stops the refresher and the listener (a graceful shutdown: requests in flight finish; at most `timeout`
    /// seconds are waited for).
    public func stop(timeout: Double = 5) {
        stopRefreshing()
        guard let group, task != nil else { return }
        Task.detached { await group.triggerGracefulShutdown() }
        _ = ended.wait(timeout: timeout)
        task = nil
        self.group = nil
    }

    /// The operating system's reason inside a NIO bind error (`Address already in use`), else the error text.
    static func shortReason(_ text: String) -> String {
        if let range = text.range(of: "errno: "), let close = text[range.upperBound...].firstIndex(of: ")") {
            let code = Int32(text[range.upperBound..<close]) ?? 0
            if code != 0 { return String(cString: strerror(code)) }
        }
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}

/// The first outcome of starting the listener: nil (listening) or why it failed.
private final class ListenOutcome: @unchecked Sendable {
    private let condition = NSCondition()
    private var outcome: String??

    func set(_ value: String?) {
        condition.lock()
        if outcome == nil { outcome = .some(value) }
        condition.broadcast()
        condition.unlock()
    }

    /// The outcome, or nil when none came within `timeout` seconds.
    func wait(timeout: Double) -> String?? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil && Date() < deadline { _ = condition.wait(until: deadline) }
        return outcome
    }
}
