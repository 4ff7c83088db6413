// InputsField: a command cell's inputs in ASSIGN (name, kind, content hash, the artifact to fetch) and their rules.

/// Limits of ASSIGN's `inputs` (docs/protocol.md, "Limits").
extension FieldLimits {
    /// Most inputs in an ASSIGN's `inputs`.
    public static let maxInputs = 64
    /// Longest input name, in characters.
    public static let maxInputNameLength = 32
}

/// One input of a command cell: a file or a directory the command reads, known by its content.
///
/// A file input's `sha256` is the SHA-256 of its bytes and its `artifact` is the file itself (the same SHA-256).
/// A directory input's `sha256` is the SHA-256 of its manifest (`InputManifest` in TransferKit) and its `artifact`
/// is the directory's archive: the manifest, an empty line, then every file's bytes in manifest order. The worker
/// fetches `artifact` like any other artifact and exposes the input as `ABLATE_INPUT_<NAME>`.
public struct InputRef: Codable, Sendable, Equatable, Hashable {
    /// What an input is.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case file
        case directory
    }

    /// `[a-z][a-z0-9_]{0,31}`; the variable is `ABLATE_INPUT_` + the name upper-cased.
    public var name: String
    public var kind: Kind
    /// The input's content hash (lower-case hex): a file's bytes, a directory's manifest.
    public var sha256: String
    /// What the worker fetches: the file, or the directory's archive.
    public var artifact: ArtifactRef

    public init(name: String, kind: Kind, sha256: String, artifact: ArtifactRef) {
        self.name = name
        self.kind = kind
        self.sha256 = sha256
        self.artifact = artifact
    }

    /// The environment variable a command finds the input's path in: `ABLATE_INPUT_` + the name upper-cased.
    public var environmentName: String { InputsField.environmentName(name) }
}

/// The rules of input names, shared by the sweep parser and ASSIGN's decoding.
public enum InputsField {
    /// The prefix of the inputs' environment variables.
    public static let environmentPrefix = "ABLATE_INPUT_"

    /// `ABLATE_INPUT_` + `name` upper-cased.
    public static func environmentName(_ name: String) -> String { environmentPrefix + name.uppercased() }

    /// Why `name` cannot name an input (`[a-z][a-z0-9_]{0,31}`); nil when it can.
    public static func nameProblem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first else { return "is empty" }
        guard scalars.count <= FieldLimits.maxInputNameLength else {
            return "is longer than \(FieldLimits.maxInputNameLength) characters"
        }
        let allowed = scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard allowed, ("a"..."z").contains(first) else {
            return "must be lower-case letters, digits and '_', starting with a letter ([a-z][a-z0-9_]{0,31})"
        }
        return nil
    }

    /// Why `inputs` cannot be ASSIGN's `inputs`; nil when they can. Each name follows `nameProblem` and appears
    /// once; a file's artifact has the file's hash.
    public static func problem(_ inputs: [InputRef]) -> String? {
        if inputs.count > FieldLimits.maxInputs {
            return "lists \(inputs.count) entries, more than \(FieldLimits.maxInputs)"
        }
        var names: Set<String> = []
        for (index, input) in inputs.enumerated() {
            if let problem = nameProblem(input.name) { return "[\(index)].name \(problem)" }
            if !names.insert(input.name).inserted { return "[\(index)].name '\(input.name)' appears twice" }
            if !Hex.isDigest(input.sha256) { return "[\(index)].sha256 is not 64 lower-case hex digits" }
            if input.kind == .file && input.artifact.sha256 != input.sha256 {
                return "[\(index)] is a file whose artifact has another SHA-256"
            }
        }
        return nil
    }
}
