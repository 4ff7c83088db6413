// CheckpointCadence: which epochs' files a training job streams, so that fast epochs do not each send checkpoints.
import Foundation

/// Decides when a training job hands its run directory's files (`last.h5`, `best.h5`, `predictions.h5`) to the
/// outbox. METRICS go every epoch regardless; files go at the first epoch (so a requeued cell soon has a resume
/// point), then at the first epoch that ends `interval` seconds or more after the files last went, and always at
/// the run's last epoch. A file rewritten in between is remembered by name (the run directory keeps its latest
/// bytes, which are what goes), and `flush` gives what is still unsent when training stops early (a stop or a
/// cancel), so the resume point is the last completed epoch. With an interval of 0 every epoch's files go, as
/// with long epochs, where the interval is shorter than an epoch. Pure: the caller passes the time.
struct CheckpointCadence {
    let interval: Double
    private var lastSent: Double?
    private var unsent: [String] = []
    /// The epoch whose files `unsent` hold (the last completed one).
    private var unsentEpoch = 0

    init(interval: Double) { self.interval = max(0, interval) }

    /// The names to snapshot and stream after `epoch`, which rewrote `files`; empty when they wait.
    mutating func filesToSend(after epoch: Int, wrote files: [String], finished: Bool, now: Double) -> [String] {
        for name in files where !unsent.contains(name) { unsent.append(name) }
        unsentEpoch = epoch
        let due = finished || lastSent.map { now - $0 >= interval } ?? true
        guard due else { return [] }
        lastSent = now
        defer { unsent = [] }
        return unsent
    }

    /// Files written but not yet sent, and the epoch they belong to (nothing when all went).
    mutating func flush() -> (names: [String], epoch: Int) {
        defer { unsent = [] }
        return (unsent, unsentEpoch)
    }
}
