// SynthProgress: `ablate data synth`'s progress line on a terminal, redrawn at most 4 times a second.
import Foundation

/// Counts generated rows from the generator's threads and redraws `  synth P% (N of M rows, R rows/s)` on standard
/// error when it is a terminal; in a pipe or a journal it draws nothing. `finish` erases the line.
final class SynthProgress: @unchecked Sendable {
    private let total: Int
    private let lock = NSLock()
    private let start = Date()
    private var done = 0
    private var drawn = Date.distantPast
    private let terminal: Bool

    init(total: Int, terminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.terminal = terminal
    }

    /// `rows` more rows are generated.
    func advance(_ rows: Int) {
        guard terminal else { return }
        lock.lock()
        defer { lock.unlock() }
        done += rows
        let now = Date()
        guard now.timeIntervalSince(drawn) >= 0.25 || done == total else { return }
        drawn = now
        let elapsed = now.timeIntervalSince(start)
        let line = TrainingProgressLine.line(
            phase: "synth", done: done, total: total, perSecond: elapsed > 0 ? Double(done) / elapsed : nil)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Erases the line (on a terminal).
    func finish() {
        guard terminal else { return }
        FileHandle.standardError.write(Data("\u{1B}[K".utf8))
    }
}
