// WorkerLink: the worker's connection as a pure state machine — HELLO, WELCOME, heartbeats, expiry, backoff.
import Foundation
import Logging
import WireProtocol

/// What the worker's network loop must do for its connection.
public enum LinkAction: Equatable, Sendable {
    /// Close the DEALER and open a new one (a fresh routing id; nothing queued to a dead peer survives).
    case reopenSocket
    case sendHello
    case sendHeartbeat
    /// A session started: resend whatever is unacknowledged.
    case sessionStarted(Welcome)
    /// The coordinator says every cell is done or failed: no job held can count any more, and nothing will be assigned.
    case sweepFinished
    /// A line for the worker's log, at `level`.
    case log(String, level: Logger.Level = .info)
}

/// The connection side of the protocol (docs/protocol.md, "Sessions and heartbeats"). Times are seconds.
/// A coordinator silent for heartbeat × liveness is presumed gone: the link reopens its socket after a backoff of
/// 1 s doubling to 32 s and says HELLO again; a DISCONNECT does the same at once.
public struct WorkerLink: Sendable {
    public enum Phase: Equatable, Sendable {
        /// Waiting until `retryAt` before reconnecting.
        case waiting(retryAt: Double)
        /// HELLO sent, no WELCOME yet.
        case helloSent
        case connected(session: String, coordinator: String)
    }

    public private(set) var phase: Phase = .waiting(retryAt: 0)
    public private(set) var heartbeatSeconds = 1.0
    public private(set) var liveness = 5
    private var lastHeard = 0.0
    private var lastHeartbeat = -Double.infinity
    private var backoff = 1.0
    public static let maxBackoff = 32.0

    public init() {}

    public var isConnected: Bool { if case .connected = phase { true } else { false } }

    /// First connection: open the socket and say HELLO.
    public mutating func start(now: Double) -> [LinkAction] { reconnect(now: now) }

    private mutating func reconnect(now: Double) -> [LinkAction] {
        phase = .helloSent
        lastHeard = now
        return [.reopenSocket, .sendHello]
    }

    /// Any message from the coordinator.
    public mutating func received(_ message: Message, now: Double) -> [LinkAction] {
        lastHeard = now
        switch message {
        case .welcome(let welcome):
            heartbeatSeconds = Double(welcome.heartbeatMs) / 1000
            liveness = welcome.liveness
            backoff = 1
            var actions: [LinkAction] = []
            if case .connected(_, let previous) = phase, previous != welcome.coordinatorIncarnation {
                actions.append(.log("the coordinator restarted", level: .notice))
            }
            phase = .connected(session: welcome.session, coordinator: welcome.coordinatorIncarnation)
            lastHeartbeat = now
            if welcome.sweepFinished == true {
                return actions + [
                    .log("connected: session \(welcome.session); the sweep is finished"), .sweepFinished,
                    .sessionStarted(welcome),
                ]
            }
            return actions + [.log("connected: session \(welcome.session)"), .sessionStarted(welcome)]
        case .disconnect(let disconnect) where disconnect == .sweepFinished:
            return [.log("the coordinator says the sweep is finished; saying HELLO again"), .sweepFinished]
                + reconnect(now: now)
        case .disconnect(let disconnect):
            return [
                .log("the coordinator closed the session (\(disconnect.reason)); saying HELLO again", level: .warning)
            ] + reconnect(now: now)
        default:
            return []
        }
    }

    /// A message that the protocol needs delivered (not a heartbeat) could not be queued while connected: what was
    /// in flight can no longer be trusted to arrive in order, so the session is reopened at once, and its start
    /// resends everything unacknowledged (docs/protocol.md, "Sessions and heartbeats").
    public mutating func undelivered(now: Double) -> [LinkAction] {
        guard isConnected else { return [] }
        return [.log("a message could not be queued to the coordinator; opening a new session", level: .warning)]
            + reconnect(now: now)
    }

    /// A message was sent (any message counts as a heartbeat).
    public mutating func sent(now: Double) {
        if isConnected { lastHeartbeat = now }
    }

    /// Heartbeats, expiry and reconnection at time `now`.
    public mutating func tick(now: Double) -> [LinkAction] {
        switch phase {
        case .waiting(let retryAt):
            return now >= retryAt ? reconnect(now: now) : []
        case .helloSent, .connected:
            if now - lastHeard > heartbeatSeconds * Double(liveness) {
                let wait = backoff
                backoff = min(Self.maxBackoff, backoff * 2)
                phase = .waiting(retryAt: now + wait)
                return [
                    .log(
                        "no word from the coordinator for \(Int(now - lastHeard)) s; reconnecting in \(Int(wait)) s",
                        level: .warning)
                ]
            }
            if isConnected, now - lastHeartbeat >= heartbeatSeconds {
                lastHeartbeat = now
                return [.sendHeartbeat]
            }
            return []
        }
    }
}
