// PrintableText: text a peer sent, made safe to print on one line (no line breaks, control or bidi characters).

/// A worker's FAILED and RELEASE reasons end up in the coordinator's log, `ablate status`, the final table and the
/// report. They are data: a reason must not forge a status line (a line break), drive the terminal (an escape
/// sequence) or reorder what is shown (a bidi override). `oneLine` keeps every printable character and replaces the
/// rest: line breaks by ` | `, a tab by a space, every other C0/C1 control and bidi-formatting character by its
/// `\u{XXXX}` escape; the result is cut at `limit` characters with `…`.
public enum PrintableText {
    public static func oneLine(_ text: String, limit: Int = 2000) -> String {
        var out = ""
        var pendingBreak = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}" {
                pendingBreak = !out.isEmpty
                continue
            }
            if pendingBreak {
                out += " | "
                pendingBreak = false
            }
            if scalar == "\t" {
                out += " "
            } else if isHidden(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            if out.count > limit { return String(out.prefix(limit)) + "…" }
        }
        return out
    }

    /// C0 and C1 controls, and the characters that change the direction or joining of what follows them.
    private static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C: true
        default: false
        }
    }
}
