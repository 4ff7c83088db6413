// DashboardToken: the secret a non-loopback dashboard requires, read once from `--http-token-file`.
import Foundation

/// The bearer token of the dashboard: the token file's text, trimmed, at least `minimumLength` characters.
public struct DashboardToken: Sendable, Equatable {
    /// The shortest token accepted.
    public static let minimumLength = 32

    /// The secret itself.
    public let value: String

    /// A token from its text (trimmed); nil when shorter than `minimumLength` or containing whitespace inside.
    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= Self.minimumLength, !trimmed.contains(where: { $0.isWhitespace }) else { return nil }
        value = trimmed
    }

    /// Reads the token file `path`; the error is one line naming the flag and the file.
    public static func read(path: String, flag: String = "--http-token-file") throws(DashboardConfigurationError)
        -> DashboardToken
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DashboardConfigurationError(message: "\(flag) \(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8), let token = DashboardToken(text: text) else {
            throw DashboardConfigurationError(
                message:
                    "\(flag) \(path): the token must be at least \(minimumLength) characters without spaces (e.g. `openssl rand -hex 32`)"
            )
        }
        return token
    }

    /// Whether `candidate` equals the token, in time that depends only on their lengths, not on where they differ.
    public func matches(_ candidate: String) -> Bool {
        let expected = Array(value.utf8)
        let given = Array(candidate.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in 0..<max(expected.count, given.count) {
            let left = index < expected.count ? expected[index] : 0
            let right = index < given.count ? given[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
