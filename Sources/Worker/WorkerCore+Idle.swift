// WorkerCore+Idle: `--exit-when-idle` — a worker that has held no job for a while ends (e.g. a Slurm task).

extension WorkerCore {
    /// Called at every tick: with `options.exitWhenIdle` set, asks the loop to end once the worker has held no job, no
    /// download and no job thread for that many seconds (counted from start or from the end of its last job). The
    /// exit is the same as `exitWhenFinished`'s: nothing is held, so nothing is released.
    mutating func checkIdle(now: Double) -> [WorkerAction] {
        guard let limit = options.exitWhenIdle, !exitRequested, !stopping else { return [] }
        guard jobs.isEmpty, downloads.isEmpty, liveThreads.isEmpty else {
            idleSince = nil
            return []
        }
        let since = idleSince ?? now
        idleSince = since
        guard now - since >= limit else { return [] }
        exitRequested = true
        return [.log("no job for \(Int(limit.rounded())) s (--exit-when-idle); exiting")]
    }
}
