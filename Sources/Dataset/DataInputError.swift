// DataInputError: a bad-input error that names the file and the position (line, byte offset or object).

/// Bad input in a data file: printed as `FILE:POSITION: message` (one line).
public struct DataInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    /// `line 7`, `byte offset 1024`, `/train/labels`, … or nil when the whole file is meant.
    public let position: String?
    public let message: String

    public init(file: String, position: String? = nil, _ message: String) {
        self.file = file
        self.position = position
        self.message = message
    }

    public var description: String {
        if let position { return "\(file): \(position): \(message)" }
        return "\(file): \(message)"
    }
}
