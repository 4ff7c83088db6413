// MetricKey: the rule for a metric's key in ASSIGN (`metric`), the same as the sweep's `metric:` name.

/// A metric key: `[a-z][a-z0-9_]*`, 1–64 bytes (docs/protocol.md, ASSIGN `metric`).
public enum MetricKey {
    public static let maximumLength = 64

    /// Why `key` cannot be a metric key; nil when it can.
    public static func problem(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return "must be 1 to \(maximumLength) bytes" }
        guard let first = bytes.first, (0x61...0x7A).contains(first),
            bytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F })
        else { return "must match [a-z][a-z0-9_]*" }
        return nil
    }
}
