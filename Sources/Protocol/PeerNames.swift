// PeerNames: the rules every name a peer sends must pass at decode time (file names, cell ids, identity labels).

/// What a name from the wire may look like. A name that passes is safe to use as one file name inside a directory
/// the receiver chose; anything else is a protocol error (the message is refused before it is looked at).
///
/// - **File name** (`ArtifactRef.name` in OFFER, DONE, ASSIGN): one path component of 1…128 bytes drawn from
///   `A–Z a–z 0–9 . _ -`, not `.` or `..`, not starting with `.`, and not a name the coordinator writes itself into a
///   run directory (`metrics.jsonl`, `summary.json`, `attempt-<n>.log`).
/// - **Cell id**: 64 lower-case hex digits (the SHA-256 of the cell's canonical definition).
/// - **Label** (HELLO's `worker`, `incarnation`, `host`, `code_version`, `blas_core`): at most 256 bytes of UTF-8
///   without control characters; `worker` and `incarnation` are not empty.
public enum PeerNames {
    /// Longest file name, in UTF-8 bytes.
    public static let maxFileNameBytes = 128
    /// Longest label, in UTF-8 bytes.
    public static let maxLabelBytes = 256
    /// Names the coordinator writes into `runs/<variant>/seed-<seed>/` itself (besides `attempt-<n>.log`).
    public static let reservedFileNames: Set<String> = ["metrics.jsonl", "summary.json"]
    /// The rule in words, for error messages and documentation.
    public static let fileNameRule =
        "one path component of 1…\(maxFileNameBytes) bytes of [A-Za-z0-9._-], not starting with '.'"

    /// Why `name` is not an acceptable file name, or nil when it is. The text never repeats a refused name.
    public static func fileNameProblem(_ name: String) -> String? {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maxFileNameBytes, bytes.allSatisfy(isFileNameByte),
            bytes.first != UInt8(ascii: ".")
        else {
            return "is not a file name (\(fileNameRule); \(bytes.count) bytes)"
        }
        if isReserved(name) { return "is '\(name)', a name the coordinator writes itself" }
        return nil
    }

    /// Whether `name` passes the file name rule.
    public static func isFileName(_ name: String) -> Bool { fileNameProblem(name) == nil }

    /// Whether `name` is one of the coordinator's own result names: `metrics.jsonl`, `summary.json`, `attempt-<n>.log`.
    public static func isReserved(_ name: String) -> Bool {
        if reservedFileNames.contains(name) { return true }
        guard name.hasPrefix("attempt-"), name.hasSuffix(".log") else { return false }
        let number = name.utf8.dropFirst("attempt-".count).dropLast(".log".count)
        return !number.isEmpty && number.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// Whether `text` is a cell id: 64 lower-case hex digits.
    public static func isCellID(_ text: String) -> Bool { Hex.isDigest(text) }

    /// Why `text` is not an acceptable label, or nil when it is.
    public static func labelProblem(_ text: String, allowEmpty: Bool) -> String? {
        let count = text.utf8.count
        if count == 0, !allowEmpty { return "is empty" }
        if count > maxLabelBytes { return "is \(count) bytes, longer than \(maxLabelBytes)" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "contains a control character"
        }
        return nil
    }

    /// Longest sweep or variant name on the wire, in bytes.
    public static let maxNameBytes = 128
    /// The rule for sweep and variant names in words (the sweep file's rule, with a length limit).
    public static let nameRule =
        "1…\(maxNameBytes) bytes of [A-Za-z0-9._-], starting with a letter or digit"

    /// Why `name` is not an acceptable sweep or variant name (CONTROL's `sweep`, `variant`, `request_id`), or nil when
    /// it is: the sweep file's rule for names, at most `maxBytes` bytes.
    public static func nameProblem(_ name: String, maxBytes: Int = maxNameBytes) -> String? {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= maxBytes, first != UInt8(ascii: "."),
            first != UInt8(ascii: "_"), first != UInt8(ascii: "-"), bytes.allSatisfy(isFileNameByte)
        else {
            return "is not a name (1…\(maxBytes) bytes of [A-Za-z0-9._-], starting with a letter or digit)"
        }
        return nil
    }

    /// Whether `text` is a cell id or a prefix of one that CONTROL may name: 6…64 lower-case hex digits.
    public static func isCellPrefix(_ text: String) -> Bool {
        let bytes = text.utf8
        return (6...64).contains(bytes.count)
            && bytes.allSatisfy { (0x30...0x39).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    private static func isFileNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
