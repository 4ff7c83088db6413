// WorkerInbox: the queue of thread events, with the doorbell that wakes the network loop.
import Synchronization
import WireProtocol

/// A queue of events with an eventfd doorbell that wakes the network loop's `zmq_poll`.
public final class WorkerInbox: Sendable {
    private let events = Mutex<[WorkerEvent]>([])
    public let doorbell: Doorbell

    public init() throws { doorbell = try Doorbell() }

    public func post(_ event: WorkerEvent) {
        events.withLock { $0.append(event) }
        doorbell.ring()
    }

    public func drain() -> [WorkerEvent] {
        _ = doorbell.drain()
        return events.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}
