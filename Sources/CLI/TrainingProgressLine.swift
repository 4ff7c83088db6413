// TrainingProgressLine: the one-line progress `ablate train` redraws on a terminal.
import WorkerKit

enum TrainingProgressLine {
    /// `  train 42% (10,752 of 25,600 rows, 3,100 rows/s)`, erasing what the line held and leaving the cursor at its
    /// start, so that the next log line writes over it.
    static func text(_ progress: TrainingProgress) -> String {
        let percent = progress.rowsTotal > 0 ? 100 * progress.rowsDone / progress.rowsTotal : 0
        let rate = progress.rowsPerSecond.map { ", \(Int($0)) rows/s" } ?? ""
        return
            "\u{1B}[K  \(progress.phase.rawValue) \(percent)% (\(progress.rowsDone) of \(progress.rowsTotal) rows\(rate))\r"
    }
}
