// CommandPlaceholderText: the `{name}` placeholders of a command line — finding and replacing them.

/// A placeholder is `{` + a name of ASCII letters, digits and `_` (not starting with a digit) + `}`; any other
/// brace is kept as written. The coordinator fills `{seed}`, `{variant}` and training settings; the worker fills
/// `{out}` and `{gpu}`.
public enum CommandPlaceholderText {
    /// The placeholder names used in `argument`, in order.
    public static func names(in argument: String) -> [String] {
        var names: [String] = []
        _ = substitute(argument) {
            names.append($0); return nil
        }
        return names
    }

    /// `argument` with each placeholder replaced by `lookup(name)`; a nil lookup keeps the placeholder as written.
    public static func substitute(_ argument: String, _ lookup: (String) -> String?) -> String {
        var out = ""
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "}") else {
                out += rest[open...]
                return out
            }
            let name = String(rest[afterOpen..<close])
            if isName(name) {
                out += lookup(name) ?? "{\(name)}"
                rest = rest[rest.index(after: close)...]
            } else {
                out += "{"
                rest = rest[afterOpen...]
            }
        }
        return out + rest
    }

    public static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }
}
