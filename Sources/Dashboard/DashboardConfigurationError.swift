// DashboardConfigurationError: why a `--http` / `--http-token-file` setting is refused, as one line.

/// A dashboard setting that cannot be used: one line naming the flag (and file), for the user.
public struct DashboardConfigurationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
