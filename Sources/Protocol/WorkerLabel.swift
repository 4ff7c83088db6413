// WorkerLabel: the rule for HELLO's optional `label` (e.g. `slurm:1234_5`), checked when the message is decoded.

/// A free-form tag a worker gives itself (`ablate worker --label`), shown next to its name by `ablate status`: the
/// Slurm template sends `slurm:JOBID_TASKID`. It is data from a peer: 1 … 64 bytes of printable ASCII (space to `~`),
/// so it cannot break a status line or a terminal. A HELLO whose label breaks the rule is refused [`name`].
public enum WorkerLabel {
    /// Longest label, in bytes.
    public static let maxBytes = 64
    /// The rule in words, for error messages and documentation.
    public static let rule = "1…\(maxBytes) bytes of printable ASCII (space to '~')"

    /// Why `text` is not an acceptable label, or nil when it is. The text never repeats the refused label.
    public static func problem(_ text: String) -> String? {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maxBytes, bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            return "is not a worker label (\(rule); \(bytes.count) bytes)"
        }
        return nil
    }
}
