// AdaptiveMailbox: the thread-safe handoff of the report's verdicts from the report thread to the coordinator's loop.
import Synchronization

/// The verdicts of one report build, as plain values (CoordinatorKit does not know the report's types).
public struct AdaptiveReportBatch: Sendable, Equatable {
    /// Each variant's verdict and paired seeds (a variant without a comparison: `not tested` at 0 seeds).
    public var judgements: [String: AdaptiveJudgement]
    /// Why the build failed; nil when it succeeded.
    public var problem: String?
    /// The number of done cells when the build started (it saw at least those).
    public var basis: Int

    public init(judgements: [String: AdaptiveJudgement], problem: String? = nil, basis: Int) {
        self.judgements = judgements
        self.problem = problem
        self.basis = basis
    }
}

/// Holds the latest batch: the report thread posts (replacing an unread one), the loop takes it without waiting.
public final class AdaptiveMailbox: Sendable {
    private let slot = Mutex<AdaptiveReportBatch?>(nil)
    private let lastPosted = Mutex<AdaptiveReportBatch?>(nil)

    public init() {}

    /// Leaves `batch` for the loop, replacing one it has not taken yet.
    public func post(_ batch: AdaptiveReportBatch) {
        slot.withLock { $0 = batch }
        lastPosted.withLock { $0 = batch }
    }

    /// The latest batch posted, taken or not (the verdicts `ablate sweeps` shows).
    public func latest() -> AdaptiveReportBatch? {
        lastPosted.withLock { $0 }
    }

    /// The batch posted since the last `take`, if any.
    public func take() -> AdaptiveReportBatch? {
        slot.withLock { slot in
            defer { slot = nil }
            return slot
        }
    }
}
