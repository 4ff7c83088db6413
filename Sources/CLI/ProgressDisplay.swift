// ProgressDisplay: live progress of a local sweep — a table redrawn in place on a terminal, summary lines otherwise.
import CoordinatorKit
import Foundation

/// Redraws the status table once a second on a terminal; into a pipe or file it prints a line whenever the
/// number of finished cells changes.
final class ProgressDisplay {
    private let sweep: String
    private let interactive = isatty(STDOUT_FILENO) == 1
    private var lastDraw = Date.distantPast
    private var linesDrawn = 0
    private var lastSummary = ""

    init(sweep: String) { self.sweep = sweep }

    func update(_ scheduler: Scheduler) {
        guard Date().timeIntervalSince(lastDraw) >= 1 else { return }
        lastDraw = Date()
        let reply = scheduler.statusReply(now: Date().timeIntervalSince1970)
        let rows = reply.rows
        if interactive {
            let text = "sweep \(sweep)\n" + StatusTable.text(rows, summary: reply.summary)
            let erase = linesDrawn > 0 ? "\u{1B}[\(linesDrawn)A\u{1B}[J" : ""
            FileHandle.standardOutput.write(Data((erase + text + "\n").utf8))
            linesDrawn = text.split(separator: "\n", omittingEmptySubsequences: false).count
        } else {
            let summary = StatusTable.text(rows).split(separator: "\n").last.map(String.init) ?? ""
            if summary != lastSummary {
                lastSummary = summary
                emit("\(ISO8601DateFormatter().string(from: Date())) \(summary)")
            }
        }
    }

    /// The last table, with the reason of every failed cell under it.
    func final(_ scheduler: Scheduler) {
        let reply = scheduler.statusReply(now: Date().timeIntervalSince1970)
        let text = StatusTable.text(
            reply.rows, reasons: StatusTable.failureReasons(Array(scheduler.cells.values)), summary: reply.summary)
        if interactive {
            let erase = linesDrawn > 0 ? "\u{1B}[\(linesDrawn)A\u{1B}[J" : ""
            FileHandle.standardOutput.write(Data((erase + "sweep \(sweep)\n" + text + "\n").utf8))
            linesDrawn = 0
        } else {
            emit(text)
        }
    }
}
