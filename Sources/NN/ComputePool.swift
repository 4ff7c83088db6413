// ComputePool: the training thread plus width − 1 helper threads that split one operation (a GEMM, a loop) between them.
import Foundation
import Synchronization

/// Ablate's own compute threads. `BLAS.sgemm` splits a large product into `width` row (or column) blocks and runs
/// one block per thread, the caller's included; the own kernels compute every output element by the same chain of
/// FMAs wherever it falls (`GEMMKernel`), so results do not depend on the width (tested). Elementwise,
/// BatchNorm, pooling and gather loops split into independent ranges through `forRanges`.
///
/// Helpers spin on a generation counter for a short while after each call, since the next GEMM of a training
/// step follows within microseconds, and then sleep on a semaphore. A call made while the pool is busy (from a
/// `ParallelBatches` thread, or nested) runs serially on its caller. Not for the Swift concurrency pool.
public final class ComputePool: @unchecked Sendable {
    /// The process's pool; `BLAS.setThreadCount` sets its width.
    public static let shared = ComputePool()

    /// Polls of a waiting helper before it sleeps (a few milliseconds: the gaps between a training step's
    /// parallel operations are far shorter, so helpers sleep only between steps' phases or runs).
    static let spinLimit = 100_000

    /// Between polls: a plain re-read, and every 64th time `sched_yield`, as OpenBLAS's own threads wait. No
    /// PAUSE instruction: under KVM a PAUSE loop can trigger pause-loop exits that deschedule the spinning vCPU,
    /// and with one, cached training on this VM sometimes ran at a tenth of its usual speed.
    @inline(__always)
    static func pause(_ spins: Int) {
        if spins & 63 == 0 { sched_yield() }
    }

    private final class Helper: Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let widthValue = Atomic<Int>(1)
    /// Written by the dispatching thread before `generation` is bumped (release), read by helpers after (acquire).
    private var job: ((Int) -> Void)?
    private let activeHelpers = Atomic<Int>(0)
    private let helpersLock = NSLock()
    private var helpers: [Helper] = []

    /// A pool of width 1; `shared` is the one the layers use.
    public init() {}

    /// Threads taking part in a `run`, the caller included.
    public var width: Int { widthValue.load(ordering: .relaxed) }

    /// Sets the width, starting helper threads as needed (they are never stopped; idle ones sleep).
    public func setWidth(_ newWidth: Int) {
        let target = max(1, newWidth)
        helpersLock.withLock {
            while helpers.count < target - 1 {
                let helper = Helper()
                let index = helpers.count + 1
                helpers.append(helper)
                // The generation is read here, before any `run` that could need this helper, not when the thread
                // starts: a helper that started after its first call would wait for the next one forever.
                let seen = generation.load(ordering: .acquiring)
                let thread = Thread { [self] in helperLoop(helper, index: index, seen: seen) }
                thread.name = "ablate-compute-\(index)"
                thread.stackSize = 4 << 20
                thread.start()
            }
        }
        widthValue.store(target, ordering: .relaxed)
    }

    /// Runs `body(part)` for `part` in `0..<width`, part 0 on the caller, and returns when all have finished.
    /// Serial (every part on the caller, in order) when the width is 1 or the pool is busy.
    /// `body` does not escape: the helpers run it only between the generation bump and `pending` reaching zero.
    /// A serial run allocates nothing; a parallel one allocates the small wrapper `withoutActuallyEscaping` hands
    /// the helpers.
    public func run(_ body: (Int) -> Void) {
        let parts = width
        guard parts > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<parts { body(part) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            job = body
            activeHelpers.store(parts - 1, ordering: .relaxed)
            pending.store(parts - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            helpersLock.withLock {
                for helper in helpers.prefix(parts - 1)
                where helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                    helper.wake.signal()
                }
            }
            body(0)
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                Self.pause(spins)
            }
            job = nil
        }
    }

    /// Splits `0..<count` into `width` contiguous ranges and runs `body` on each, one per thread; one range on
    /// the caller when `parallel` is false (work too small to be worth a hand-off). Each range must be
    /// independent of the others, so that results do not depend on the split.
    public func forRanges(_ count: Int, parallel: Bool, _ body: (Range<Int>) -> Void) {
        let parts = width
        guard parallel, parts > 1, count > 1 else {
            body(0..<count)
            return
        }
        let step = (count + parts - 1) / parts
        run { part in
            let start = min(count, part * step)
            let end = min(count, start + step)
            if start < end { body(start..<end) }
        }
    }

    /// Elements an elementwise loop should have before `forRanges` splits it.
    public static let parallelMinimum = 1 << 15

    /// Runs `body` with the pool held, so that every `run` inside it (on any thread) is serial. When another
    /// job of the process (a second `--slots` slot) holds the pool, `body` runs at once without it: its runs then
    /// find the pool busy or split, which changes speed, never results.
    public func serially<T>(_ body: () throws -> T) rethrows -> T {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return try body()
        }
        defer { busy.store(false, ordering: .releasing) }
        return try body()
    }

    /// Runs the current job's part `index`. Its own function so that the helper's reference to the job is
    /// released before `pending` tells the caller the part is done: `run` then leaves `withoutActuallyEscaping`
    /// with the closure referenced by nobody else.
    @inline(never)
    private func runJob(_ index: Int) -> Bool {
        guard let job else { return false }
        job(index)
        return true
    }

    private func helperLoop(_ helper: Helper, index: Int, seen start: Int) {
        var seen = start
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinLimit {
                    Self.pause(spins)
                    continue
                }
                // Sleep unless a call arrived meanwhile; whoever clears `sleeping` owns the wake-up.
                helper.sleeping.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) != seen {
                    if !helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) { helper.wake.wait() }
                } else {
                    helper.wake.wait()
                }
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            if index <= activeHelpers.load(ordering: .relaxed), runJob(index) {
                pending.subtract(1, ordering: .releasing)
            }
        }
    }
}
