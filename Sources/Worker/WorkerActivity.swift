// WorkerActivity: what the worker is doing, for its status line and the systemd watchdog.

/// What the worker is doing, given to `WorkerAgent.onTick` after every loop iteration.
public struct WorkerActivity: Sendable, Equatable {
    public var connected: Bool
    /// `variant/seed-N epoch E` of each job in hand, sorted.
    public var jobs: [String]
}
