// CapturedLog: a swift-log handler that keeps the records in memory, for tests of what a component logs.
import Logging
import Synchronization

/// Collects the records of the loggers it makes (from any thread), in order.
public final class CapturedLog: Sendable {
    /// One record: its level, its logger's label and its message.
    public struct Record: Sendable, Equatable {
        public let level: Logger.Level
        public let label: String
        public let message: String

        public init(level: Logger.Level, label: String, message: String) {
            self.level = level
            self.label = label
            self.message = message
        }
    }

    private let collected = Mutex<[Record]>([])

    public init() {}

    /// A logger with `label` whose records (at `level` and above) this log keeps.
    public func logger(_ label: String, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { [self] label in Handler(label: label, sink: self) }
        logger.logLevel = level
        return logger
    }

    public var records: [Record] { collected.withLock { $0 } }
    /// The messages, in order.
    public var messages: [String] { records.map(\.message) }

    fileprivate func append(_ record: Record) { collected.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let label: String
        let sink: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.append(Record(level: event.level, label: label, message: "\(event.message)"))
        }
    }
}
