// ReportFiles: writes a report in every format into the state directory (report.md, .csv, .json, .html).
import AblateSupport
import Foundation

/// The report files a coordinator keeps in its state directory.
public enum ReportFiles {
    /// File names, each with its renderer.
    public static let names: [(name: String, render: @Sendable (SweepReport) -> String)] = [
        ("report.md", MarkdownReport.render), ("report.csv", CSVReport.render), ("report.json", JSONReport.render),
        ("report.html", HTMLReport.render),
    ]

    /// Writes every format into `stateDirectory`, each file replaced atomically.
    public static func write(_ report: SweepReport, stateDirectory: String) throws {
        for (name, render) in names {
            try AtomicFile.write(Array(render(report).utf8), to: "\(stateDirectory)/\(name)", overwrite: .replace)
        }
    }
}

/// Keeps a running sweep's report files current: when the number of finished cells changes, the report is
/// rebuilt and rewritten on a background thread (never on the caller's, so a coordinator loop is not held up by
/// the resampling), one rebuild at a time; a change during a rebuild or the rest after it (see `earliestNext`) is
/// picked up by the first poll after them, and a forced update (the sweep's end) waits for nothing.
/// Errors are logged, never thrown: a report problem must not stop the coordinator.
public final class ReportRefresher: @unchecked Sendable {
    private let stateDirectory: String
    private let log: @Sendable (String) -> Void
    private let lock = NSCondition()
    private var lastCount = -1
    private var lastPoll = Date.distantPast
    private var running = false
    private var pending = false
    /// No unforced rebuild starts before this: a rebuild that took d seconds is followed by 9 × d seconds of rest,
    /// so refreshing costs at most about a tenth of a core beside the training it reports on.
    private var earliestNext = Date.distantPast
    private static let restFactor = 9.0

    /// A refresher for the report files of `stateDirectory`; `log` receives one line per failed rebuild.
    public init(stateDirectory: String, log: @escaping @Sendable (String) -> Void) {
        self.stateDirectory = stateDirectory
        self.log = log
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
        guard force || finishedCells != lastCount, finishedCells > 0 else { return }
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

    private func rebuildLoop() {
        while true {
            let started = Date()
            do {
                let report = try ReportBuilder.build(stateDirectory: stateDirectory)
                try ReportFiles.write(report, stateDirectory: stateDirectory)
            } catch {
                log("report: not refreshed: \(error)")
            }
            let ended = Date()
            lock.lock()
            earliestNext = ended.addingTimeInterval(Self.restFactor * ended.timeIntervalSince(started))
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
