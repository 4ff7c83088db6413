// DashboardRefresher: the dedicated thread that rebuilds the dashboard's snapshot from the state directory about once a second.
import CoordinatorKit
import Foundation
import Logging

/// Rebuilds the `DashboardSnapshot` about once a second on its own `Thread` (never a task: SQLite and file reads
/// stay off Swift's cooperative pool, which the HTTP handlers share). Each refresh reads the ledger through its
/// read-only connection (`LedgerStatus`, the path of `ablate status --state`), re-reads only the curves of cells
/// whose stored records changed, re-reads `report.json` and `report.html` only when their size or modification time
/// changed, encodes the JSON once and publishes the result. Errors are logged at most once per message and leave
/// the last snapshot in place: the dashboard must never stop the coordinator.
public final class DashboardRefresher: @unchecked Sendable {
    /// The lines shown under the status table (the CLI's adaptive-seeds lines), from the ledger and its cells.
    public typealias Notes = @Sendable (Ledger, [CellRecord], String) throws -> [String]

    private let stateDirectory: String
    private let store: DashboardSnapshotStore
    private let notes: Notes
    private let interval: Double
    private let logger: Logger
    private let condition = NSCondition()
    private var stopping = false
    private var finished = false

    // Touched by the refresh thread only.
    private var ledger: Ledger?
    private var metric: SweepMetric?
    private var curveCache: [String: (attempt: Int, seq: Int, points: [DashboardCurves.Point])] = [:]
    private var reportFiles: [String: (stamp: FileStamp, bytes: [UInt8])] = [:]
    private var lastError: String?

    /// A refresher of `store` from `stateDirectory` every `interval` seconds.
    public init(
        stateDirectory: String, store: DashboardSnapshotStore, interval: Double = 1, logger: Logger,
        notes: @escaping Notes = { _, _, _ in [] }
    ) {
        self.stateDirectory = stateDirectory
        self.store = store
        self.interval = interval
        self.logger = logger
        self.notes = notes
    }

    /// Starts the thread (once).
    public func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "dashboard-refresh"
        thread.start()
    }

    /// Stops the thread and waits for its current refresh to end.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            refresh()
            condition.lock()
            let deadline = Date().addingTimeInterval(interval)
            while !stopping && Date() < deadline { _ = condition.wait(until: deadline) }
            let stop = stopping
            condition.unlock()
            if stop { break }
        }
        try? ledger?.close()
        ledger = nil
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// One refresh: a new snapshot, or the old one kept and the error logged.
    func refresh() {
        do {
            store.publish(try build(now: Date().timeIntervalSince1970))
            lastError = nil
        } catch {
            let text = "\(error)"
            if text != lastError { logger.warning("dashboard: cannot refresh from \(stateDirectory): \(text)") }
            lastError = text
            ledger = nil
        }
    }

    private func build(now: Double) throws -> DashboardSnapshot {
        let ledger = try self.ledger ?? Ledger(readingDirectory: stateDirectory)
        self.ledger = ledger
        let reply = try LedgerStatus.reply(ledger, now: now)
        let cells = try ledger.plannedCells()
        let status = try StatusJSON.text(reply, notes: (try? notes(ledger, cells, stateDirectory)) ?? [])
        let metric = try sweepMetric(ledger)
        var curves: [DashboardCurves.Curve] = []
        for cell in cells {
            curves.append(
                DashboardCurves.Curve(
                    cell: cell.id, variant: cell.variant, seed: String(cell.seed), stage: cell.stage,
                    state: cell.state.rawValue, compared: cell.variant != SweepPlan.stage1VariantName,
                    epochs: try points(cell, ledger: ledger, metric: metric.name)))
        }
        return DashboardSnapshot(
            status: Array(status.utf8), curves: try DashboardCurves.json(curves: curves, metric: metric),
            reportJSON: reportFile("report.json"), reportHTML: reportFile("report.html"), builtAt: now)
    }

    /// The sweep's metric from the recorded sweep (parsed once); the default when it does not parse.
    private func sweepMetric(_ ledger: Ledger) throws -> SweepMetric {
        if let metric { return metric }
        var found = SweepMetric()
        if let text = try ledger.sweepText(),
            let sweep = try? Sweep.parse(text: text, sourceName: "recorded sweep", workingDirectory: stateDirectory)
        {
            found = sweep.metric
        }
        metric = found
        return found
    }

    /// A cell's points, re-read only when its attempt or its latest stored record changed.
    private func points(_ cell: CellRecord, ledger: Ledger, metric: String) throws -> [DashboardCurves.Point] {
        guard cell.attempt > 0 else { return [] }
        let seq = try ledger.lastMetricsSeq(cell: cell.id, attempt: cell.attempt)
        if let cached = curveCache[cell.id], cached.attempt == cell.attempt, cached.seq == seq { return cached.points }
        var records: [String] = []
        for attempt in 1...cell.attempt {
            records += try ledger.metrics(cell: cell.id, attempt: attempt).map(\.record)
        }
        let points = DashboardCurves.points(records: records, metric: metric)
        curveCache[cell.id] = (cell.attempt, seq, points)
        return points
    }

    /// A report file's bytes, read again only when its size or modification time changed; nil when it is missing.
    private func reportFile(_ name: String) -> [UInt8]? {
        let path = "\(stateDirectory)/\(name)"
        guard let stamp = FileStamp(path: path) else {
            reportFiles[name] = nil
            return nil
        }
        if let cached = reportFiles[name], cached.stamp == stamp { return cached.bytes }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        reportFiles[name] = (stamp, Array(data))
        return Array(data)
    }
}
