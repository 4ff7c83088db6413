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
/// the resampling), one rebuild at a time, with a change during a rebuild answered by one more rebuild after it.
/// Errors are logged, never thrown: a report problem must not stop the coordinator.
public final class ReportRefresher: @unchecked Sendable {
    private let stateDirectory: String
    private let log: @Sendable (String) -> Void
    private let lock = NSCondition()
    private var lastCount = -1
    private var lastPoll = Date.distantPast
    private var running = false
    private var pending = false

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
            do {
                let report = try ReportBuilder.build(stateDirectory: stateDirectory)
                try ReportFiles.write(report, stateDirectory: stateDirectory)
            } catch {
                log("report: not refreshed: \(error)")
            }
            lock.lock()
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
