// SettingsError: what is wrong with run settings — each problem typed with the key it is about.

/// One problem of a setting: the key (as in run files and sweeps) and the message (which starts with the key or
/// names it, e.g. `width 20 must be a positive multiple of 16`).
public struct SettingProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { message }
}

/// Errors of run settings, printed as one line.
public enum SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Keys that are not settings (sorted).
    case unknownKeys([String])
    /// Values out of range, every problem at once (in settings-table order).
    case invalid([SettingProblem])

    public var description: String {
        switch self {
        case .unknownKeys(let keys): "invalid training settings: unknown keys: \(keys.joined(separator: ", "))"
        case .invalid(let problems): "invalid training settings: \(problems.map(\.message).joined(separator: "; "))"
        }
    }

    /// The description without its `invalid training settings: ` prefix.
    public var detail: String {
        switch self {
        case .unknownKeys(let keys): "unknown keys: \(keys.joined(separator: ", "))"
        case .invalid(let problems): problems.map(\.message).joined(separator: "; ")
        }
    }
}
