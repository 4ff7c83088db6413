// ParallelBatches: independent batches spread over dedicated threads, results returned in batch order.
import Foundation
import Synchronization

/// Runs independent batches (eval-mode forward passes: the frozen-prefix cache build, validation, prediction) on
/// `threads` threads, each taking the next batch as it finishes one, with GEMMs unsplit meanwhile so that each
/// thread is one core. A forward pass is a per-row function (`BLAS.rowPadding`), so the results do not
/// depend on the thread count or on which thread ran which batch; they are returned in batch order.
///
/// The threads are plain `Thread`s, never the Swift concurrency pool: BLAS calls block their thread for long.
public enum ParallelBatches {
    /// `body(batch)` for every batch in `0..<count`, in batch order. `body` must only read shared state.
    public static func map<T: Sendable>(count: Int, threads: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        // Holding the compute pool keeps every GEMM inside serial, so each thread is one core.
        ComputePool.shared.serially { mapHoldingPool(count: count, threads: threads, body) }
    }

    private static func mapHoldingPool<T: Sendable>(count: Int, threads: Int, _ body: @escaping @Sendable (Int) -> T)
        -> [T]
    {
        let workers = max(1, min(threads, count))
        if workers == 1 { return (0..<count).map(body) }
        let state = State<T>(count: count)
        let work: @Sendable () -> Void = {
            while true {
                let batch = state.next.add(1, ordering: .relaxed).oldValue
                if batch >= count { return }
                let result = body(batch)
                state.results.withLock { $0[batch] = result }
            }
        }
        let finished = DispatchSemaphore(value: 0)
        for _ in 1..<workers {
            let thread = Thread {
                work()
                finished.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        work()
        for _ in 1..<workers { finished.wait() }
        return state.results.withLock { results in results.compactMap { $0 } }
    }

    /// A value the batches share and only read, such as a model whose eval-mode forward passes run on several
    /// threads at once (their only write, the small-map weight-column cache, is locked).
    public struct Shared<Value>: @unchecked Sendable {
        public let value: Value
        public init(_ value: Value) { self.value = value }
    }

    /// The next batch to take and the results so far.
    private final class State<T: Sendable>: Sendable {
        let next = Atomic<Int>(0)
        let results: Mutex<[T?]>

        init(count: Int) {
            results = Mutex([T?](repeating: nil, count: count))
        }
    }
}
