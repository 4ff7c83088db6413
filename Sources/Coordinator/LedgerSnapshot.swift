// LedgerSnapshot: one consistent view of a ledger (sweep, cells, their latest attempts, workers, counters) for status displays.
import Foundation

/// Everything a status display needs, read in one transaction so that it is consistent.
public struct LedgerSnapshot: Sendable, Equatable {
    /// The sweep recorded by the last `beginRun`, if any.
    public var sweepName: String?
    /// How many times a coordinator started on this state directory.
    public var incarnation: Int
    /// Every cell, in sweep order.
    public var cells: [CellRecord]
    /// The highest-numbered attempt of each cell that has one, by cell id.
    public var latestAttempts: [String: AttemptRecord]
    /// Every worker ever seen, by name.
    public var workers: [WorkerRecord]
    /// Every counter (dropped frames etc.).
    public var counters: [String: Int]

    public init(
        sweepName: String?, incarnation: Int, cells: [CellRecord], latestAttempts: [String: AttemptRecord],
        workers: [WorkerRecord], counters: [String: Int]
    ) {
        self.sweepName = sweepName
        self.incarnation = incarnation
        self.cells = cells
        self.latestAttempts = latestAttempts
        self.workers = workers
        self.counters = counters
    }

    /// How many cells are in each state (states without cells are absent).
    public var stateCounts: [CellState: Int] {
        cells.reduce(into: [:]) { $0[$1.state, default: 0] += 1 }
    }
}
