// JSONText: JSON string literals written by hand — the one escaper of cell ids and report files.

/// JSON text pieces for files whose exact bytes matter (cell ids, reports with a fixed key order).
public enum JSONText {
    /// How control characters are written.
    public enum Style: Sendable {
        /// Every control character as `\u00xx` (the cell-id form; never change it: ids depend on it).
        case canonical
        /// `\n`, `\t`, `\r` short, other control characters as `\u00xx`.
        case readable
    }

    /// A JSON string literal: `"` and `\` escaped, control characters per `style`, everything else as is.
    public static func quoted(_ text: String, style: Style = .canonical) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n" where style == .readable: out += "\\n"
            case "\t" where style == .readable: out += "\\t"
            case "\r" where style == .readable: out += "\\r"
            case "\u{0}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
