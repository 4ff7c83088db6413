// ExecutionFields: the rules of a command cell's execution settings (env, workdir, resume_file, checkpoints) and GPUs.

/// Limits of ASSIGN's execution settings and HELLO's `gpus` (docs/protocol.md, "Limits").
extension FieldLimits {
    /// Most variables in an ASSIGN's `env`.
    public static let maxEnvironmentEntries = 64
    /// Longest variable name of `env`, in characters.
    public static let maxEnvironmentNameLength = 128
    /// Longest value of `env`, in UTF-8 bytes.
    public static let maxEnvironmentValueBytes = 4096
    /// Longest `workdir`, in UTF-8 bytes.
    public static let maxWorkdirBytes = 1024
    /// Longest `resume_file` or `checkpoints` pattern, in UTF-8 bytes.
    public static let maxOutputPathBytes = 255
    /// Most patterns in `checkpoints`.
    public static let maxCheckpointPatterns = 32
    /// Most GPUs a HELLO's `gpus` may list.
    public static let maxGPUs = 64
    /// Largest GPU index in a HELLO's `gpus`.
    public static let maxGPUIndex = 1023
}

/// What a command cell's execution settings may hold; the sweep parser and ASSIGN's decoding check the same rules,
/// since on the worker the names become environment variables and the paths become paths below `$ABLATE_OUT`:
///
/// - **env** name: `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters, not starting with `ABLATE_` and not a variable
///   the worker sets itself (`reservedEnvironmentNames`); value: at most 4096 bytes, no NUL; at most 64 entries.
/// - **workdir**: 1…1024 bytes, no NUL (absolute, or relative to the worker's working directory).
/// - **resume_file** and each **checkpoints** pattern: 1…255 bytes, relative (no leading `/`), components separated
///   by `/`, each non-empty, of `[A-Za-z0-9._-]` (patterns also `*` and `?`) and not starting with `.` (so no `.` or
///   `..`); a resume file's last component is a protocol file name (`PeerNames`). At most 32 patterns.
public enum ExecutionField {
    /// Variables the worker sets for a command itself, besides every `ABLATE_*` variable.
    public static let reservedEnvironmentNames: Set<String> = ["CUDA_VISIBLE_DEVICES"]
    /// The prefix of the worker's own variables.
    public static let reservedEnvironmentPrefix = "ABLATE_"
    /// The resume file when a cell names none.
    public static let defaultResumeFile = "last.h5"

    /// Why `name` cannot be an `env` variable name; nil when it can.
    public static func environmentNameProblem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first else { return "is empty" }
        guard scalars.count <= FieldLimits.maxEnvironmentNameLength else {
            return "is longer than \(FieldLimits.maxEnvironmentNameLength) characters"
        }
        guard scalars.allSatisfy({ isLetter($0) || isDigit($0) || $0 == "_" }), !isDigit(first) else {
            return "is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"
        }
        if name.hasPrefix(reservedEnvironmentPrefix) {
            return "starts with \(reservedEnvironmentPrefix), the prefix of the worker's own variables"
        }
        if reservedEnvironmentNames.contains(name) { return "is set by the worker itself" }
        return nil
    }

    /// Why `value` cannot be an `env` value; nil when it can.
    public static func environmentValueProblem(_ value: String) -> String? {
        if value.utf8.count > FieldLimits.maxEnvironmentValueBytes {
            return "is \(value.utf8.count) bytes, longer than \(FieldLimits.maxEnvironmentValueBytes)"
        }
        if value.utf8.contains(0) { return "contains a NUL character" }
        return nil
    }

    /// Why `path` cannot be a `workdir`; nil when it can.
    public static func workdirProblem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.utf8.count > FieldLimits.maxWorkdirBytes {
            return "is \(path.utf8.count) bytes, longer than \(FieldLimits.maxWorkdirBytes)"
        }
        if path.utf8.contains(0) { return "contains a NUL character" }
        return nil
    }

    /// Why `path` cannot be a `resume_file` (`pattern` false) or a `checkpoints` pattern (`pattern` true); nil when it
    /// can. The text never repeats the refused path.
    public static func outputPathProblem(_ path: String, pattern: Bool) -> String? {
        let bytes = Array(path.utf8)
        if bytes.isEmpty { return "is empty" }
        if bytes.count > FieldLimits.maxOutputPathBytes {
            return "is \(bytes.count) bytes, longer than \(FieldLimits.maxOutputPathBytes)"
        }
        if bytes.first == UInt8(ascii: "/") { return "is absolute; give a path relative to $ABLATE_OUT" }
        let components = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for component in components {
            if component.isEmpty { return "has an empty path component ('//' or a trailing '/')" }
            if component.first == UInt8(ascii: ".") {
                return "has a component starting with '.' ('.' and '..' are not allowed, hidden files are not streamed)"
            }
            let allowed = component.allSatisfy {
                isPathByte($0) || (pattern && ($0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?")))
            }
            if !allowed {
                return pattern
                    ? "uses characters other than [A-Za-z0-9._-], '*', '?' and '/'"
                    : "uses characters other than [A-Za-z0-9._-] and '/'"
            }
        }
        if !pattern, let last = components.last,
            let problem = PeerNames.fileNameProblem(String(decoding: last, as: UTF8.self))
        {
            return "has a last component that \(problem)"
        }
        return nil
    }

    /// Why `patterns` cannot be `checkpoints`; nil when they can (each by `outputPathProblem`).
    public static func checkpointsProblem(_ patterns: [String]) -> String? {
        if patterns.count > FieldLimits.maxCheckpointPatterns {
            return "lists \(patterns.count) patterns, more than \(FieldLimits.maxCheckpointPatterns)"
        }
        for (index, pattern) in patterns.enumerated() {
            if let problem = outputPathProblem(pattern, pattern: true) { return "[\(index)] \(problem)" }
        }
        return nil
    }

    /// Why `gpus` cannot be HELLO's `gpus`; nil when they can.
    public static func gpusProblem(_ gpus: [Int]) -> String? {
        if gpus.count > FieldLimits.maxGPUs { return "lists \(gpus.count) GPUs, more than \(FieldLimits.maxGPUs)" }
        if let bad = gpus.first(where: { !(0...FieldLimits.maxGPUIndex).contains($0) }) {
            return "holds \(bad), outside 0...\(FieldLimits.maxGPUIndex)"
        }
        if Set(gpus).count != gpus.count { return "lists a GPU twice" }
        return nil
    }

    /// The name a file at `path` (below `$ABLATE_OUT`) is known by centrally: its last component.
    public static func baseName(_ path: String) -> String {
        String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path))
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    private static func isPathByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
