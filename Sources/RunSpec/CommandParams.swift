// CommandParams: a command cell's own settings (`params:`) — names, their rule, placeholder texts, canonical JSON.

/// The params of a command cell: name → value. They fill `{name}` placeholders, enter the cell id
/// (`CellIdentity`), travel in ASSIGN as `canonicalJSON`, and reach the command as `ABLATE_PARAM_<NAME>` and
/// `$ABLATE_OUT/params.json` (docs/bring-your-own-trainer.md).
public struct CommandParams: Sendable, Equatable {
    /// The params by name.
    public var values: [String: ParamValue]

    /// Params from `values` (names are not checked here; see `nameProblem`).
    public init(_ values: [String: ParamValue] = [:]) {
        self.values = values
    }

    /// No params.
    public static let none = CommandParams()

    /// Whether there are no params.
    public var isEmpty: Bool { values.isEmpty }

    /// The names, sorted (byte order: names are ASCII).
    public var names: [String] { values.keys.sorted() }

    /// The params with `other`'s values replacing these per name (a variant's params over the `train` block's).
    public func overridden(by other: CommandParams) -> CommandParams {
        CommandParams(values.merging(other.values) { _, new in new })
    }

    /// Each param's placeholder text by name (`ParamValue.placeholderText`).
    public var placeholderValues: [String: String] { values.mapValues(\.placeholderText) }

    /// The canonical JSON object: keys sorted, no whitespace, values as `ParamValue.canonicalJSON`; `{}` when empty.
    public var canonicalJSON: String {
        "{" + names.map { "\(JSONText.quoted($0)):\(values[$0]?.canonicalJSON ?? "null")" }.joined(separator: ",") + "}"
    }

    /// The environment variable that holds param `name`: `ABLATE_PARAM_` + the name upper-cased.
    public static func environmentName(_ name: String) -> String {
        "ABLATE_PARAM_" + name.uppercased()
    }

    // MARK: - Names

    /// Longest param name, in characters.
    public static let maxNameLength = 64

    /// Placeholder names that are not settings yet may not be param names.
    public static let reservedNames: Set<String> = ["seed", "variant", "out", "gpu"]

    /// Why `name` cannot be a param name by its spelling (ASCII letters, digits and `_`, not starting with a
    /// digit, 1…64 characters); nil when it can. Names that clash with settings are `clashProblem`'s.
    public static func nameProblem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first else { return "a param name must not be empty" }
        guard scalars.count <= maxNameLength else {
            return "a param name has at most \(maxNameLength) characters (this one has \(scalars.count))"
        }
        guard scalars.allSatisfy(isNameCharacter) else { return "a param name uses only ASCII letters, digits and '_'" }
        guard !("0"..."9").contains(first) else { return "a param name must not start with a digit" }
        return nil
    }

    /// Why `name` may not be a param name because it is already a placeholder (a training setting of
    /// `settingKeys`, or seed, variant, out, gpu); nil when it may.
    public static func clashProblem(_ name: String, settingKeys: Set<String>) -> String? {
        if settingKeys.contains(name) {
            return "'\(name)' is a training setting; a param of that name would be an ambiguous placeholder"
        }
        if reservedNames.contains(name) {
            return "'\(name)' is a placeholder Ablate fills; a param of that name would be ambiguous"
        }
        return nil
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
    }
}
