// CommandSummary: the summary.json of a command cell — epochs, best epoch by val_macro_f1, best and last records.
import Foundation

/// Builds the `summary.json` a command attempt reports with DONE. It is readable as a `SummaryDigest` (status,
/// `epochs_run`, `best_epoch`, `best_val_macro_f1`, `seconds`); the command's own best and last lines are kept
/// verbatim as `best_record` and `last_record`.
public enum CommandSummary {
    /// The summary of an attempt that reported `lines` and exited 0 after `seconds`; nil when no line was reported.
    public static func json(lines: [MetricsLine], command: [String], seconds: Double) -> String? {
        guard let last = lines.max(by: { ($0.epoch, $0.line) < ($1.epoch, $1.line) }) else { return nil }
        let finite = lines.filter { $0.valMacroF1.isFinite }
        // The best epoch: the highest val_macro_f1, the earliest epoch among equals.
        let best = finite.max { ($0.valMacroF1, -$0.epoch) < ($1.valMacroF1, -$1.epoch) }
        var fields: [(String, String)] = [
            ("command", encode(command)),
            ("epochs_run", String(last.epoch)),
            ("last_record", last.record),
            ("seconds", number(seconds)),
            ("status", "\"completed\""),
            ("trainer", "\"command\""),
        ]
        if let best {
            fields += [
                ("best_epoch", String(best.epoch)), ("best_record", best.record),
                ("best_val_macro_f1", number(best.valMacroF1)),
            ]
        } else {
            fields.append(("best_epoch", "0"))
        }
        let body = fields.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        return "{\(body)}"
    }

    private static func encode(_ strings: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(strings)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    private static func number(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "null"
    }
}
