// HeartbeatSimulator: many protocol-speaking idle workers on one thread, for measuring a coordinator's heartbeat cost.
import CoordinatorKit
import Foundation
import WireProtocol
import WorkerKit

/// Opens `workers` DEALER sockets to a coordinator, says HELLO on each, and then sends a HEARTBEAT from each every
/// `heartbeatMs` (staggered evenly over the interval), reading and discarding whatever the coordinator sends. An
/// ASSIGN is accepted and never worked on: the simulated worker keeps heartbeating, as a busy worker would.
/// All sockets belong to the calling thread.
public final class HeartbeatSimulator {
    public struct Counts: Sendable, Equatable {
        public var welcomed = 0
        public var heartbeatsSent = 0
        public var messagesReceived = 0
        public var disconnects = 0
    }

    private let context: ZMQContext
    private var sockets: [ZMQSocket] = []
    private var welcomed: [Bool]
    private let heartbeatSeconds: Double
    public private(set) var counts = Counts()

    public init(endpoint: String, workers: Int, heartbeatMs: Int) throws {
        context = try ZMQContext()
        heartbeatSeconds = Double(heartbeatMs) / 1000
        welcomed = Array(repeating: false, count: workers)
        let host = ProcessInfo.processInfo.hostName
        for index in 0..<workers {
            let socket = try ZMQSocket(context, type: .dealer)
            try socket.configureWorkerDealer()
            try socket.connect(endpoint)
            sockets.append(socket)
            let hello = Hello(
                worker: "sim-\(index)", incarnation: String(format: "%016llx", UInt64.random(in: 0...UInt64.max)),
                host: host, threads: 1, gpu: nil, slots: 1, codeVersion: "simulated", blasCore: "none", resuming: [])
            _ = try socket.send(MessageCodec.encode(.hello(hello)), dontWait: false)
        }
    }

    deinit {
        for socket in sockets { socket.close() }
    }

    /// True once every simulated worker has its session.
    public var allWelcomed: Bool { counts.welcomed == sockets.count }

    /// Runs the simulated workers for `seconds`, or until every one is welcomed when `untilWelcomed` is set.
    public func run(seconds: Double, untilWelcomed: Bool = false) throws {
        let start = Date().timeIntervalSinceReferenceDate
        let count = Double(sockets.count)
        var nextBeat = sockets.indices.map { start + heartbeatSeconds * Double($0) / max(1, count) }
        let poller = ZMQPoller(sockets: sockets)
        while true {
            let now = Date().timeIntervalSinceReferenceDate
            if now - start >= seconds || (untilWelcomed && allWelcomed) { return }
            for index in sockets.indices where welcomed[index] && nextBeat[index] <= now {
                _ = try sockets[index].send(MessageCodec.encode(.heartbeat(Heartbeat())), dontWait: true)
                counts.heartbeatsSent += 1
                nextBeat[index] += heartbeatSeconds
                if nextBeat[index] < now { nextBeat[index] = now + heartbeatSeconds }
            }
            let soonest = nextBeat.min() ?? now + heartbeatSeconds
            let waitMs = max(0, min(100, Int(((soonest - Date().timeIntervalSinceReferenceDate) * 1000).rounded(.up))))
            let ready = try poller.poll(timeoutMs: waitMs)
            for index in ready.readableSockets {
                while let frames = try sockets[index].receive() {
                    counts.messagesReceived += 1
                    switch try? MessageCodec.decode(frames) {
                    case .welcome:
                        if !welcomed[index] { counts.welcomed += 1 }
                        welcomed[index] = true
                    case .disconnect:
                        counts.disconnects += 1
                    default:
                        break
                    }
                }
            }
        }
    }
}
