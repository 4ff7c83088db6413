// CommandOutput: follows a command's log file — the last lines (for FAILED reasons) and batches for LOG messages.
import Foundation

/// Reads the lines a command appends to its log. Lines to forward are batched at most once per `interval`
/// seconds; a batch holds at most `maxBatch` lines and `maxBatchBytes` bytes of text (the oldest are dropped
/// first, and a note says how many), and a line is cut at `maxLineBytes`. The byte limit keeps a LOG message well
/// under the coordinator's JSON header limit (1 MiB) even when every byte needs a 6-byte JSON escape. The last
/// `tailCount` lines are always kept.
public struct CommandOutput: Sendable {
    public let path: String
    public var interval = 1.0
    public var maxBatch = 500
    public var maxBatchBytes = 128 * 1024
    public var maxLineBytes = 4096
    public var tailCount = 20
    /// The most read from the file per `read()`.
    public var maxReadBytes = 4 << 20

    private var offset: UInt64 = 0
    private var partial: [UInt8] = []
    public private(set) var tail: [String] = []
    private var batch: [String] = []
    private var dropped = 0
    private var lastSent = -Double.infinity

    public init(path: String) { self.path = path }

    /// Reads what was appended since the last call; `final` also takes an unterminated last line.
    public mutating func read(final: Bool = false) {
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            if (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: maxReadBytes) {
                partial += data
                offset += UInt64(data.count)
            }
        }
        while let newline = partial.firstIndex(of: 0x0A) {
            add(Array(partial[..<newline]))
            partial.removeSubrange(...newline)
        }
        if partial.count > maxLineBytes || (final && !partial.isEmpty) {
            add(partial)
            partial.removeAll()
        }
    }

    private mutating func add(_ bytes: [UInt8]) {
        var line = String(decoding: bytes.prefix(maxLineBytes), as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        // Invalid UTF-8 decodes to U+FFFD (3 bytes a byte): cut again, on a character boundary, to the limit.
        line = Self.prefix(line, bytes: maxLineBytes)
        tail.append(line)
        if tail.count > tailCount { tail.removeFirst(tail.count - tailCount) }
        batch.append(line)
        if batch.count > maxBatch {
            dropped += batch.count - maxBatch
            batch.removeFirst(batch.count - maxBatch)
        }
    }

    /// The lines to forward now (nil before `interval` has passed since the last batch, or when there are none);
    /// `force` ignores the interval.
    public mutating func takeBatch(now: Double, force: Bool = false) -> [String]? {
        guard !batch.isEmpty, force || now - lastSent >= interval else { return nil }
        lastSent = now
        // The newest lines that fit, with room for the note when some are left out: the whole batch stays within
        // `maxBatch` lines and `maxBatchBytes` (the limits the coordinator enforces).
        let sizes = batch.reversed().map { $0.utf8.count + 1 }
        var bytes = 0
        var kept = 0
        for size in sizes {
            if kept == maxBatch || bytes + size > maxBatchBytes { break }
            bytes += size
            kept += 1
        }
        while kept > 0, dropped + batch.count - kept > 0,
            kept + 1 > maxBatch || bytes + Self.note(dropped + batch.count - kept).utf8.count + 1 > maxBatchBytes
        {
            kept -= 1
            bytes -= sizes[kept]
        }
        dropped += batch.count - kept
        var lines = Array(batch.suffix(kept))
        if dropped > 0 { lines.insert(Self.note(dropped), at: 0) }
        batch.removeAll()
        dropped = 0
        return lines
    }

    /// The line that stands for `count` lines left out of a batch.
    static func note(_ count: Int) -> String { "[\(count) earlier lines not forwarded; see the worker's log]" }

    /// The longest prefix of `line` that takes at most `bytes` bytes of UTF-8.
    static func prefix(_ line: String, bytes limit: Int) -> String {
        guard line.utf8.count > limit else { return line }
        var scalars = String.UnicodeScalarView()
        var used = 0
        for scalar in line.unicodeScalars {
            let width = UTF8.width(scalar)
            if used + width > limit { break }
            used += width
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// The last lines as one text for a failure reason.
    public var tailText: String {
        tail.isEmpty ? "(no output)" : tail.joined(separator: "\n")
    }
}
