// ReportError: a report's bad input (missing state, unreadable results, unknown format) as one line.

/// Why a report cannot be made, in one line that names what and where.
public struct ReportError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
