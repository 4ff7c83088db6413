// SweepError: every problem of a sweep file at once, each with its line, column and key path.
import Foundation

/// One problem of a sweep file: where it is (1-based line and column; 0 when the problem has no place, such as
/// an unreadable file), the key path it concerns (`variants.poly.epsilon`, `seeds[2]`; empty for syntax errors)
/// and what is wrong.
public struct SweepProblem: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var key: String
    public var message: String

    public init(line: Int, column: Int, key: String, message: String) {
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `LINE: KEY: MESSAGE` (parts without a value are left out).
    public var description: String {
        var parts: [String] = []
        if line > 0 { parts.append(String(line)) }
        if !key.isEmpty { parts.append(key) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// A sweep file that cannot be used, with every problem found in it (sorted by line, then column).
public struct SweepError: Error, CustomStringConvertible, Equatable {
    /// The file's name as given to `Sweep.load` or `Sweep.parse(text:sourceName:)`.
    public var sourceName: String
    public var problems: [SweepProblem]

    public init(sourceName: String, problems: [SweepProblem]) {
        self.sourceName = sourceName
        self.problems = problems.sorted {
            ($0.line, $0.column, $0.key, $0.message) < ($1.line, $1.column, $1.key, $1.message)
        }
    }

    /// One line per problem: `FILE:LINE: KEY: MESSAGE`.
    public var description: String {
        problems.map { problem in
            problem.line > 0 ? "\(sourceName):\(problem)" : "\(sourceName): \(problem)"
        }.joined(separator: "\n")
    }
}
