// ReportRefresher: rebuilds a running sweep's report files in the background when the finished-cell count changes.
import AblateSupport
import Foundation
import Logging

/// Keeps a running sweep's report files current: when the number of finished cells changes, the report is
/// rebuilt and rewritten on a background thread (never on the caller's, so a coordinator loop is not held up by
/// the resampling), one rebuild at a time; a change during a rebuild or the rest after it (see `earliestNext`) is
/// picked up by the first poll after them, and a forced update (the sweep's end) waits for nothing. The rebuild
/// thread runs in SCHED_IDLE (`IdlePriority`): it takes no CPU that training on the same cores wants, so a sweep
/// whose workers fill the machine is not slowed by its own report. `close` ends it for the final report.
/// Errors are logged, never thrown: a report problem must not stop the coordinator.
public final class ReportRefresher: @unchecked Sendable {
    private let stateDirectory: String
    private let logger: Logger
    private let lock = NSCondition()
    private var lastCount = -1
    private var lastPoll = Date.distantPast
    private var running = false
    private var pending = false
    /// Set by `close`: no rebuild writes files any more.
    private var closed = false
    /// A rebuild is writing the files (outside the lock, so the coordinator's thread never waits on a
    /// SCHED_IDLE thread's disk writes; only `close` waits for it).
    private var writing = false
    private var ranIdle = false
    /// No unforced rebuild starts before this: a rebuild that used d seconds of CPU is followed by 9 × d seconds
    /// of rest, so refreshing takes at most about a tenth of a core even where a core is idle for it (CPU time,
    /// not wall time: a rebuild that waited for idle CPU did not cost more).
    private var earliestNext = Date.distantPast
    private static let restFactor = 9.0

    /// Paired tests of earlier rebuilds, for the next ones and for the caller's final report.
    public let pairedTests = PairedTestCache()

    /// Called on the rebuild thread after every rebuild, even after `close`: the report or why it failed, and the
    /// finished-cell count that started it (the report saw at least those cells).
    private let onReport: (@Sendable (Result<SweepReport, any Error>, Int) -> Void)?

    /// A refresher for the report files of `stateDirectory`; `logger` (label `report`) gets an error line per failed
    /// rebuild, `onReport` every rebuild's outcome (an adaptive sweep's coordinator takes its verdicts from it).
    public init(
        stateDirectory: String, logger: Logger = Logger(label: "report"),
        onReport: (@Sendable (Result<SweepReport, any Error>, Int) -> Void)? = nil
    ) {
        self.stateDirectory = stateDirectory
        self.logger = logger
        self.onReport = onReport
    }

    /// At most once a second: evaluates `finishedCells` and starts a rebuild when it changed. Cheap otherwise.
    public func poll(finishedCells: () -> Int) {
        let now = Date()
        guard now.timeIntervalSince(lastPoll) >= 1 else { return }
        lastPoll = now
        update(finishedCells: finishedCells())
    }

    /// Starts a rebuild when `finishedCells` differs from the last count seen (or `force`).
    public func update(finishedCells: Int, force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, force || finishedCells != lastCount, finishedCells > 0 else { return }
        // An unforced change seen while resting or rebuilding stays unseen, so a later poll picks it up.
        if !force && (running || Date() < earliestNext) { return }
        lastCount = finishedCells
        if running {
            pending = true
            return
        }
        running = true
        let thread = Thread { [self] in self.rebuildLoop() }
        thread.name = "ablate.report"
        thread.start()
    }

    /// Blocks until no rebuild is running or pending.
    public func wait() {
        lock.lock()
        while running { lock.wait() }
        lock.unlock()
    }

    /// Whether the last rebuild thread ran in SCHED_IDLE (false before the first, and off Linux).
    public var lastRebuildRanIdle: Bool { lock.withLock { ranIdle } }

    /// Stops refreshing without waiting for a rebuild in progress: once `close` returns, no rebuild writes the
    /// report files (one that was writing has finished), so the caller's final report is the last written. A
    /// rebuild still computing is dropped when done.
    public func close() {
        lock.lock()
        closed = true
        pending = false
        while writing { lock.wait() }
        lock.unlock()
    }

    private func rebuildLoop() {
        let idle = IdlePriority.applyToCurrentThread() && IdlePriority.isCurrentThreadIdle
        lock.withLock { ranIdle = idle }
        while true {
            let cpuBefore = ProcessUsage.currentThreadCPUSeconds()
            let basis = lock.withLock { lastCount }
            let report: SweepReport?
            do {
                let built = try ReportBuilder.build(stateDirectory: stateDirectory, parallel: false, cache: pairedTests)
                report = built
                onReport?(.success(built), basis)
            } catch {
                report = nil
                logger.error("not refreshed: \(error)")
                onReport?(.failure(error), basis)
            }
            lock.lock()
            // `close` waits while `writing`, so it cannot return while a stale report is being written.
            if let report, !closed {
                writing = true
                lock.unlock()
                do {
                    try ReportFiles.write(report, stateDirectory: stateDirectory)
                } catch {
                    logger.error("not refreshed: \(error)")
                }
                lock.lock()
                writing = false
                lock.broadcast()
            }
            earliestNext = Date().addingTimeInterval(
                Self.restFactor * (ProcessUsage.currentThreadCPUSeconds() - cpuBefore))
            if pending {
                pending = false
                lock.unlock()
                continue
            }
            running = false
            lock.broadcast()
            lock.unlock()
            return
        }
    }
}
