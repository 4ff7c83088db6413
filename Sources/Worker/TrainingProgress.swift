// TrainingProgress: how far a run is inside its current phase (the prefix-cache build, an epoch's training, validation).
import Foundation
import WireProtocol

/// Rows done of the current phase, and the rate since the phase began; a worker sends it in its heartbeats.
public struct TrainingProgress: Sendable, Equatable {
    public var phase: JobProgress.Phase
    public var rowsDone: Int
    public var rowsTotal: Int
    /// Rows per second since the phase began; nil before a measurable time has passed.
    public var rowsPerSecond: Double?

    public init(phase: JobProgress.Phase, rowsDone: Int, rowsTotal: Int, rowsPerSecond: Double?) {
        self.phase = phase
        self.rowsDone = rowsDone
        self.rowsTotal = rowsTotal
        self.rowsPerSecond = rowsPerSecond
    }
}

/// Calls a progress handler at most once per `interval` seconds within a phase (and always at a phase's start).
final class ProgressThrottle: @unchecked Sendable {
    private let handler: ((TrainingProgress) -> Void)?
    private let interval: Double
    private var phase: JobProgress.Phase?
    private var phaseStart = Date()
    private var lastCall = Date.distantPast

    init(_ handler: ((TrainingProgress) -> Void)?, interval: Double = 1) {
        self.handler = handler
        self.interval = interval
    }

    /// `done` of `total` rows of `phase` are done (called by one thread, between batches).
    func report(_ phase: JobProgress.Phase, done: Int, total: Int) {
        guard let handler else { return }
        let now = Date()
        if phase != self.phase {
            self.phase = phase
            phaseStart = now
        } else if now.timeIntervalSince(lastCall) < interval {
            return
        }
        lastCall = now
        let elapsed = now.timeIntervalSince(phaseStart)
        let rate = elapsed > 0.05 && done > 0 ? Double(done) / elapsed : nil
        handler(TrainingProgress(phase: phase, rowsDone: min(done, total), rowsTotal: total, rowsPerSecond: rate))
    }
}
