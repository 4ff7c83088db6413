// LogOptions: `--log-level`, shared by the commands that run as services (coordinator, worker, local).
import AblateLog
import ArgumentParser
import Logging

/// `--log-level LEVEL`: the least level of the log lines a process writes (info by default).
struct LogOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp(
            "Least level of the log lines written: trace, debug, info, notice, warning, error or critical.",
            valueName: "level"))
    var logLevel: LogLevel = .info

    /// Sets the level of the loggers created from now on; call before creating any.
    func apply() {
        AblateLogging.level = logLevel.level
    }
}

/// swift-log's levels by name, as `--log-level` takes them.
enum LogLevel: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    /// None listed in errors and help: the option's help names the levels, so a bad one is a single error line
    /// (`The value 'loud' is invalid for '--log-level <level>'`) rather than a list.
    static var allValueStrings: [String] { [] }
    static var defaultCompletionKind: CompletionKind { .list(allCases.map(\.rawValue)) }

    var level: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
