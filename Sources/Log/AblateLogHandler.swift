// AblateLogHandler: swift-log's handler for every process — one line per record, the journal's `<N>` form under systemd.
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each record as one line, at once (no buffering: print is block-buffered into pipes and journals):
///
///     2026-12-03T04:05:06.123Z info coordinator: listening on tcp://0.0.0.0:5555
///
/// UTC ISO-8601 time with milliseconds, the level, the logger's label (the component: `coordinator`, `scheduler`,
/// `transfer`, `worker`, `trainer`, `report`, …), the message, then any metadata as `key=value` (sorted by key).
/// When the output is the systemd journal (`JOURNAL_STREAM`), a line starts with the syslog priority instead of the
/// time, which the journal records itself: `<6>info coordinator: listening on tcp://0.0.0.0:5555`.
public struct AblateLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Where the lines go.
    public let output: LogOutput
    /// The time of a record (injected by tests).
    let clock: @Sendable () -> Date
    /// Only the message (no time, level, label or metadata): for a foreground command whose log lines are its
    /// output, such as `ablate train`'s epoch lines.
    public var messageOnly = false

    public init(
        label: String, level: Logger.Level = .info, output: LogOutput = .standardOutput,
        metadataProvider: Logger.MetadataProvider? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
        self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if messageOnly {
            output.write("\(event.message)")
            return
        }
        output.write(
            Self.line(
                level: event.level, label: label, message: "\(event.message)", metadata: merged,
                date: clock(), journal: output.isJournal))
    }

    /// One record as its line, without the newline: `TIME LEVEL LABEL: MESSAGE key=value…`, or for the journal
    /// `<PRIORITY>LEVEL LABEL: MESSAGE key=value…`. Line breaks inside the message or values are written as `\n`, so
    /// that a record stays one line (one journal entry).
    public static func line(
        level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
        date: Date, journal: Bool
    ) -> String {
        var text = journal ? "<\(syslogPriority(level))>" : "\(timestamp(date)) "
        text += "\(level.rawValue) \(label): \(oneLine(message))"
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            text += " \(oneLine(key))=\(oneLine("\(value)"))"
        }
        return text
    }

    /// The syslog priority the journal files a level under (sd-daemon(3)): trace and debug 7, info 6, notice 5,
    /// warning 4, error 3, critical 2.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// `2026-12-03T04:05:06.123Z`: UTC, milliseconds (rounded down).
    public static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (quotient, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        var seconds = time_t(remainder < 0 ? quotient - 1 : quotient)
        let millis = remainder < 0 ? remainder + 1000 : remainder
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis))
    }

    private static func oneLine(_ text: String) -> String {
        guard text.contains(where: \.isNewline) else { return text }
        return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: "\\n")
    }
}

/// A destination for log lines: a file descriptor written with write(2), one whole line per call, under a lock (so
/// lines of concurrent threads never interleave), or a file opened on the first line (and its directory created).
public final class LogOutput: Sendable {
    private enum Target {
        case descriptor(Int32)
        case file(path: String)
    }

    private let target: Target
    /// Whether lines go to the systemd journal: they carry `<N>` priorities and no time.
    public let isJournal: Bool
    /// The open descriptor of a `.file` output (nil until the first line, or while it cannot be opened); the lock
    /// that serializes writes.
    private let state = Mutex<Int32?>(nil)

    /// Standard output, in the journal's form when it is connected to the journal.
    public static let standardOutput = LogOutput(descriptor: STDOUT_FILENO)
    /// Standard error, in the journal's form when it is connected to the journal.
    public static let standardError = LogOutput(descriptor: STDERR_FILENO)

    /// Writes to `descriptor` (not closed); `journal` nil: detected from `JOURNAL_STREAM` (`isJournal(descriptor:)`).
    public init(descriptor: Int32, journal: Bool? = nil) {
        target = .descriptor(descriptor)
        isJournal = journal ?? Self.isJournal(descriptor: descriptor)
    }

    /// Appends to the file at `path`, opened (with its directory created) when the first line is written.
    public init(appendingTo path: String) {
        target = .file(path: path)
        isJournal = false
    }

    deinit {
        if case .file = target, let fd = state.withLock({ $0 }) { close(fd) }
    }

    /// Writes `line` and a newline in one call. A line that cannot be written (a full disk under a redirected
    /// output) is lost, never fatal.
    public func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        state.withLock { opened in
            let fd: Int32
            switch target {
            case .descriptor(let descriptor):
                fd = descriptor
            case .file(let path):
                if opened == nil { opened = openAppending(path) }
                guard let descriptor = opened else { return }
                fd = descriptor
            }
            writeAll(fd, bytes)
        }
    }

    /// Whether `descriptor` is the stream systemd connected to the journal: `JOURNAL_STREAM` (systemd.exec(5)) holds
    /// the device and inode numbers of that stream, `DEVICE:INODE`, and they match the descriptor's.
    public static func isJournal(descriptor: Int32, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> Bool
    {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

}

/// Opens `path` for appending (creating it and its directory); nil when it cannot be opened.
private func openAppending(_ path: String) -> Int32? {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    return fd >= 0 ? fd : nil
}

/// Writes all of `bytes` to `fd` (retrying short writes and interruptions); gives up silently on an error.
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, base + offset, buffer.count - offset)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// The process's logging: swift-log bootstrapped once with `AblateLogHandler` on standard output, at the level the
/// command's `--log-level` sets (info by default).
public enum AblateLogging {
    private static let settings = Mutex<Logger.Level>(.info)

    /// The level of loggers created from now on (a command sets it before it creates its loggers).
    public static var level: Logger.Level {
        get { settings.withLock { $0 } }
        set { settings.withLock { $0 = newValue } }
    }

    /// Installs the handler as swift-log's factory; only the first call in a process does anything (swift-log
    /// traps on a second bootstrap).
    public static func bootstrap() {
        _ = once
    }

    private static let once: Void = {
        LoggingSystem.bootstrap { label in
            AblateLogHandler(label: label, level: AblateLogging.level, output: .standardOutput)
        }
    }()

    /// A logger with `label` that writes to `output` at the current level (outside the bootstrapped factory: e.g. the
    /// coordinator of `ablate local`, whose lines go to a file); `messageOnly` writes the bare messages.
    public static func logger(_ label: String, to output: LogOutput, messageOnly: Bool = false) -> Logger {
        let current = AblateLogging.level
        return Logger(label: label) { label in
            var handler = AblateLogHandler(label: label, level: current, output: output)
            handler.messageOnly = messageOnly
            return handler
        }
    }
}
