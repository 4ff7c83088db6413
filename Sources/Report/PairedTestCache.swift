// PairedTestCache: one comparison's paired-test results kept across report rebuilds, keyed by its rows and settings.
import CoordinatorKit
import Synchronization

/// The bootstrap interval and the randomization p-value of a comparison depend only on its row patterns and the
/// significance settings: every comparison of a build reads the same random stream, drawn the same way whatever
/// the other comparisons are (`PairedBootstrap`, `ApproximateRandomization`). So a rebuild computes only the
/// comparisons whose cells changed since an earlier build, with the same results as computing them all. One
/// cache serves a coordinator's background refreshes and its final report. Bounded: past `capacity` entries it
/// starts over.
public final class PairedTestCache: Sendable {
    struct Key: Hashable {
        let patterns: RowPatterns
        let resamples: Int
        let seed: UInt64
        let alpha: Double

        init(_ patterns: RowPatterns, _ settings: SignificanceSettings) {
            self.patterns = patterns
            resamples = settings.resamples
            seed = settings.seed
            alpha = settings.alpha
        }
    }

    struct Entry: Sendable {
        let interval: DeltaInterval
        let pValue: Double
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let capacity: Int

    public init(capacity: Int = 64) { self.capacity = max(1, capacity) }

    /// Results held now.
    public var count: Int { entries.withLock { $0.count } }

    func entry(_ key: Key) -> Entry? { entries.withLock { $0[key] } }

    func store(_ entry: Entry, for key: Key) {
        entries.withLock {
            if $0.count >= capacity { $0.removeAll() }
            $0[key] = entry
        }
    }
}
