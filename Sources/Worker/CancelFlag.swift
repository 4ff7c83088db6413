// CancelFlag: the flag the network loop sets and a job's thread polls to stop.
import Synchronization

/// A flag the network loop sets and the training thread polls between batches.
public final class CancelFlag: Sendable {
    private let value = Mutex(false)
    public init() {}
    public func set() { value.withLock { $0 = true } }
    public var isSet: Bool { value.withLock { $0 } }
}
