// ParamValue: the value of a command's own setting (`params:`) — a scalar or a list of scalars, its text and JSON.

/// One scalar value of a param: as read from the sweep's YAML (an integer, a number, a text or a bool).
public enum ParamScalar: Sendable, Equatable {
    case integer(Int)
    /// A finite number (non-finite numbers are refused where params are read).
    case number(Double)
    case text(String)
    case bool(Bool)

    /// The placeholder text: integers as digits, numbers as Swift's shortest round-trip form (`0.1`, `1e-05`,
    /// like training settings), texts verbatim, bools `true`/`false`.
    public var placeholderText: String {
        switch self {
        case .integer(let value): String(value)
        case .number(let value): "\(value)"
        case .text(let value): value
        case .bool(let value): value ? "true" : "false"
        }
    }

    /// The canonical JSON of the value: numbers as their placeholder text, texts through `JSONText.quoted`.
    public var canonicalJSON: String {
        switch self {
        case .text(let value): JSONText.quoted(value)
        case .integer, .number, .bool: placeholderText
        }
    }
}

/// A param's value: one scalar, or a list of scalars (no deeper nesting).
public enum ParamValue: Sendable, Equatable {
    case scalar(ParamScalar)
    case list([ParamScalar])

    /// The placeholder text (and `ABLATE_PARAM_*` value): a scalar's text; a list's items' texts joined by `,`.
    public var placeholderText: String {
        switch self {
        case .scalar(let value): value.placeholderText
        case .list(let items): items.map(\.placeholderText).joined(separator: ",")
        }
    }

    /// The canonical JSON of the value: a scalar's, or `[a,b]` without whitespace.
    public var canonicalJSON: String {
        switch self {
        case .scalar(let value): value.canonicalJSON
        case .list(let items): "[" + items.map(\.canonicalJSON).joined(separator: ",") + "]"
        }
    }
}
