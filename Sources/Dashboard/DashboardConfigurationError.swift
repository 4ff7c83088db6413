// DashboardConfigurationError: why a `--http` / `--http-token-file` setting is refused, as one line.

/// A dashboard setting that cannot be used: one line naming the flag (and file), for the user.
public struct DashboardConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The line shown to the user.
    public let message: String
    /// An error with that line.
    public init(message: String) { self.message = message }
    /// The line.
    public var description: String { message }
}
