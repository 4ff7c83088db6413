// PersistenceBacklog: scheduler actions that could not be persisted (a full disk), kept in order and retried.
import Foundation
import WireProtocol

/// When a ledger or results write fails for a reason that may pass (a full disk), that action and every later
/// write, with the messages that acknowledge a write (METRICS_ACK, DONE_ACK, STORED, ASSIGN), wait here in their
/// order and are retried every `retrySeconds`: nothing is acknowledged before it is stored, and writes of the same
/// cell never overtake each other. Other actions (heartbeats, WELCOME, CREDIT, status replies, logs) go at once, so
/// the coordinator keeps serving meanwhile. Pure: `perform` does the I/O, and time is an argument. A class, because
/// `perform` may run more actions through the same backlog (a stored file's record and STORED after a credit).
public final class PersistenceBacklog {
    /// How an action relates to persistence.
    public enum Role: Equatable, Sendable {
        /// Writes the ledger or the results.
        case persist
        /// A message that says a write happened.
        case acknowledge
        /// Anything else.
        case immediate
    }

    public static func role(of action: SchedulerAction) -> Role {
        switch action {
        case .saveCell, .storeMetrics, .saveWorker, .recordCellFile, .addArtifact, .finishCell, .saveCancelled,
            .extendPlan:
            return .persist
        case .send(_, let message):
            switch message {
            case .metricsAck, .doneAck, .stored, .assign, .controlReply: return .acknowledge
            default: return .immediate
            }
        case .acceptOffer, .appendLog, .count, .log, .logRepeated:
            return .immediate
        }
    }

    public let retrySeconds: Double
    public private(set) var queue: [SchedulerAction] = []
    /// The error of the latest failed write, while the queue is not empty.
    public private(set) var lastFailure: String?
    private var nextRetry = -Double.infinity

    public init(retrySeconds: Double = 1) {
        self.retrySeconds = retrySeconds
    }

    public var isEmpty: Bool { queue.isEmpty }

    /// Runs `actions` in order through `perform`; a write that fails with an error `isRetryable` accepts is queued, and
    /// so is every later write or acknowledgement while the queue is not empty. Other errors are rethrown.
    /// Returns the error of a write that failed now, if any.
    @discardableResult
    public func run(
        _ actions: [SchedulerAction], now: Double, isRetryable: (any Error) -> Bool,
        perform: (SchedulerAction) throws -> Void
    ) throws -> String? {
        var failed: String?
        for action in actions {
            if Self.role(of: action) == .immediate {
                try perform(action)
                continue
            }
            guard queue.isEmpty else {
                queue.append(action)
                continue
            }
            do {
                try perform(action)
            } catch  where isRetryable(error) {
                queue.append(action)
                failed = "\(error)"
                lastFailure = failed
                nextRetry = now + retrySeconds
            }
        }
        return failed
    }

    /// Performs the queued actions in order once the retry time has come, stopping at the first that fails again.
    /// Returns the number performed.
    @discardableResult
    public func retry(now: Double, isRetryable: (any Error) -> Bool, perform: (SchedulerAction) throws -> Void) throws
        -> Int
    {
        guard !queue.isEmpty, now >= nextRetry else { return 0 }
        var done = 0
        while let first = queue.first {
            do {
                try perform(first)
            } catch  where isRetryable(error) {
                lastFailure = "\(error)"
                nextRetry = now + retrySeconds
                return done
            }
            queue.removeFirst()
            done += 1
        }
        lastFailure = nil
        return done
    }
}
