// TrainingProgressLine: the one-line progress `ablate train` and `ablate data synth` redraw on a terminal.
import WorkerKit

enum TrainingProgressLine {
    /// `  train 42% (10,752 of 25,600 rows, 3,100 rows/s)`, erasing what the line held and leaving the cursor at its
    /// start, so that the next log line writes over it.
    static func text(_ progress: TrainingProgress) -> String {
        line(
            phase: progress.phase.rawValue, done: progress.rowsDone, total: progress.rowsTotal,
            perSecond: progress.rowsPerSecond)
    }

    /// `  PHASE P% (DONE of TOTAL rows, R rows/s)` in the same erasing form, for any long local command.
    static func line(phase: String, done: Int, total: Int, perSecond: Double?) -> String {
        let percent = total > 0 ? 100 * done / total : 0
        let rate = perSecond.map { ", \(Int($0)) rows/s" } ?? ""
        return "\u{1B}[K  \(phase) \(percent)% (\(done) of \(total) rows\(rate))\r"
    }
}
