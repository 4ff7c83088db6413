// ResumedCommandSummary: a resumed command cell's summary.json, its best epoch chosen over every attempt's epochs.
import Foundation
import RunSpec

/// A command attempt's summary names the best of its own metrics lines only; an attempt that resumed never saw the
/// epochs before its resume point. The coordinator, which holds every epoch (the latest attempt's line for each),
/// rewrites `best_epoch`, `best_record` and `best_val_macro_f1` over all of them, so the summary agrees with the
/// central `metrics.jsonl` and with the `best.h5` / `predictions.h5` an earlier attempt may have produced.
enum ResumedCommandSummary {
    /// The summary of `done` with its best epoch over `merged` (the cell's epochs, one record each), or `summary`
    /// unchanged when it is not a command cell's or cannot be read.
    static func merged(_ summary: String, merged: [MetricsRecord]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any],
            object["trainer"] as? String == "command", !merged.isEmpty
        else { return summary }
        let command = object["command"] as? [String] ?? []
        let seconds = (object["seconds"] as? NSNumber)?.doubleValue ?? 0
        let lines = merged.map {
            MetricsLine(
                line: $0.seq, epoch: $0.epoch, valMacroF1: $0.valMacroF1, valLoss: .nan, trainLoss: .nan, seconds: .nan,
                record: $0.record)
        }
        return CommandSummary.json(lines: lines, command: command, seconds: seconds) ?? summary
    }
}
