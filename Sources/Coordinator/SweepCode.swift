// SweepCode: reads `code:` (the files whose content enters a command cell's id) of the train block or a variant.
import Foundation
import Yams

/// One path or glob of a `code:` list, as written, with where it is written.
public struct CodePattern: Sendable, Equatable {
    /// The path or glob (`train.py`, `src/**/*.py`), relative to the sweep file's directory or absolute.
    public var text: String
    public var location: SweepKeyLocation

    public init(text: String, location: SweepKeyLocation) {
        self.text = text
        self.location = location
    }
}

/// A `code:` list as written: the patterns (none for `code: []`, which turns code hashing off) and where the key is.
public struct CodeSpec: Sendable, Equatable {
    public var patterns: [CodePattern]
    public var location: SweepKeyLocation

    public init(patterns: [CodePattern], location: SweepKeyLocation) {
        self.patterns = patterns
        self.location = location
    }
}

/// `code: [path or glob, …]`: a list of texts (possibly empty); each is checked for its form here and resolved to
/// files when the sweep is planned (`CodeFiles`).
enum SweepCode {
    static let key = "code"

    /// The message for `code` of a variant that runs the native trainer.
    static let nativeMessage = "code is hashed for commands only; the native trainer's code is Ablate's own"

    /// Reads a `code` entry; nil after reporting why it cannot be read.
    static func read(_ entry: SweepEntry, reader: inout SweepReader) -> CodeSpec? {
        guard let items = reader.sequence(entry) else { return nil }
        var patterns: [CodePattern] = []
        var bad = false
        for (index, item) in items.enumerated() {
            let path = "\(entry.path)[\(index)]"
            guard let text = item.scalar?.string, item.null == nil, !text.isEmpty else {
                reader.report(item, path, "expected a path or glob, found \(SweepReader.describe(item))")
                bad = true
                continue
            }
            if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                reader.report(item, path, "a path must not contain control characters")
                bad = true
                continue
            }
            let location = SweepKeyLocation(key: path, line: item.mark?.line ?? 0, column: item.mark?.column ?? 0)
            patterns.append(CodePattern(text: text, location: location))
        }
        return bad ? nil : CodeSpec(patterns: patterns, location: SweepParser.location(of: entry))
    }
}
