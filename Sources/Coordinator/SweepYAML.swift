// SweepYAML: composes a sweep file into Yams nodes (with line marks), turning duplicate keys into problems.
import Foundation
import Yams

/// A duplicate mapping key that was renamed so that the rest of the file could still be read.
struct DuplicateKey: Sendable {
    /// The key as written.
    var name: String
    /// Line of the key's first occurrence in the same mapping.
    var firstLine: Int
}

/// A composed document, the problems met while composing it, and the renamed duplicate keys.
struct ComposedYAML {
    var root: Node?
    var problems: [SweepProblem]
    /// Placeholder key (as it appears in the composed nodes) → the duplicate it stands for.
    var duplicates: [String: DuplicateKey]
}

/// Composition of a sweep file.
///
/// Yams stops at the first mapping with a repeated key. So that every problem is reported at once, each repeated
/// occurrence is renamed to a placeholder key in a working copy of the text and the text is composed again; the
/// reader then reports each placeholder as a duplicate at its own line and skips it.
enum SweepYAML {
    /// Placeholder keys start with this private-use character, which sweep keys never contain.
    static let placeholderPrefix = "\u{E000}"

    static func compose(_ text: String) -> ComposedYAML {
        var working = text
        var duplicates: [String: DuplicateKey] = [:]
        // Each pass renames one duplicate; the bound only guards against a text that never converges.
        for _ in 0..<1000 {
            do {
                let root = try Yams.compose(yaml: working)
                return ComposedYAML(root: root, problems: [], duplicates: duplicates)
            } catch YamlError.duplicatedKeysInMapping(let names, let context) {
                let placeholder = "\(placeholderPrefix)\(duplicates.count)"
                guard let name = names.first,
                    let renamed = renameRepeat(of: name, firstAt: context.mark, in: working, to: placeholder)
                else {
                    let problem = SweepProblem(
                        line: context.mark.line, column: context.mark.column, key: names.joined(separator: ", "),
                        message: "duplicate key")
                    return ComposedYAML(root: nil, problems: [problem], duplicates: duplicates)
                }
                duplicates[placeholder] = DuplicateKey(name: name, firstLine: context.mark.line)
                working = renamed
            } catch {
                return ComposedYAML(root: nil, problems: [syntaxProblem(error)], duplicates: duplicates)
            }
        }
        let problem = SweepProblem(line: 0, column: 0, key: "", message: "too many duplicate keys")
        return ComposedYAML(root: nil, problems: [problem], duplicates: duplicates)
    }

    /// A YAML syntax error as a problem at its position.
    static func syntaxProblem(_ error: Error) -> SweepProblem {
        switch error {
        case YamlError.scanner(let context, let problem, let mark, _),
            YamlError.parser(let context, let problem, let mark, _),
            YamlError.composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            return SweepProblem(line: mark.line, column: mark.column, key: "", message: "invalid YAML: \(detail)")
        case YamlError.reader(let problem, _, _, _):
            return SweepProblem(line: 0, column: 0, key: "", message: "unreadable text: \(problem)")
        default:
            return SweepProblem(line: 0, column: 0, key: "", message: "invalid YAML: \(error)")
        }
    }

    /// The text with the next occurrence of key `name` in the mapping whose first occurrence is at `first`
    /// replaced by `placeholder`; nil when it cannot be found.
    ///
    /// In a block mapping, sibling keys start in the same column with only blanks before them; in a flow
    /// mapping they follow a comma at the same nesting depth.
    static func renameRepeat(of name: String, firstAt first: Mark, in text: String, to placeholder: String) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        let row = first.line - 1
        let start = first.column - 1
        guard lines.indices.contains(row), start >= 0, start <= lines[row].count,
            let firstToken = keyToken(in: lines[row], at: start, name: name)
        else { return nil }
        let before = lines[row][..<start].filter { $0 != " " && $0 != "\t" }
        let isBlock = before.allSatisfy { $0 == "-" }
        let found =
            isBlock
            ? nextBlockSibling(of: name, column: start, after: row, in: lines)
            : nextFlowSibling(of: name, from: (row, start + firstToken), in: lines)
        guard let (foundRow, foundColumn, length) = found else { return nil }
        let replacement = Array("\"\(placeholder)\"".unicodeScalars)
        lines[foundRow].replaceSubrange(foundColumn..<(foundColumn + length), with: replacement)
        return lines.map { line in
            var out = String.UnicodeScalarView()
            out.append(contentsOf: line)
            return String(out)
        }.joined(separator: "\n")
    }

    /// Length of the key `name` written at `index` (plain, single- or double-quoted) and followed by `:`.
    static func keyToken(in line: [Unicode.Scalar], at index: Int, name: String) -> Int? {
        let plain = Array(name.unicodeScalars)
        for quote in ["", "\"", "'"] {
            let token = Array(quote.unicodeScalars) + plain + Array(quote.unicodeScalars)
            guard index + token.count <= line.count, Array(line[index..<(index + token.count)]) == token else {
                continue
            }
            var next = index + token.count
            while next < line.count, line[next] == " " || line[next] == "\t" { next += 1 }
            if next < line.count, line[next] == ":" { return token.count }
        }
        return nil
    }

    private static func nextBlockSibling(of name: String, column: Int, after row: Int, in lines: [[Unicode.Scalar]])
        -> (Int, Int, Int)?
    {
        for candidate in (row + 1)..<lines.count {
            let line = lines[candidate]
            guard line.count > column, line[..<column].allSatisfy({ $0 == " " || $0 == "\t" }) else { continue }
            if let length = keyToken(in: line, at: column, name: name) { return (candidate, column, length) }
        }
        return nil
    }

    private static func nextFlowSibling(of name: String, from start: (Int, Int), in lines: [[Unicode.Scalar]])
        -> (Int, Int, Int)?
    {
        var depth = 0
        var quote: Unicode.Scalar?
        var afterComma = false
        var row = start.0
        var column = start.1
        while row < lines.count {
            let line = lines[row]
            while column < line.count {
                let scalar = line[column]
                if let open = quote {
                    if scalar == open { quote = nil }
                } else if afterComma, depth == 0, scalar != " ", scalar != "\t" {
                    if let length = keyToken(in: line, at: column, name: name) { return (row, column, length) }
                    afterComma = false
                    continue
                } else {
                    switch scalar {
                    case "\"", "'": quote = scalar
                    case "{", "[": depth += 1
                    case "}", "]":
                        depth -= 1
                        if depth < 0 { return nil }
                    case ",": afterComma = depth == 0
                    case "#" where column == 0 || line[column - 1] == " ": column = line.count
                    default: break
                    }
                }
                column += 1
            }
            row += 1
            column = 0
        }
        return nil
    }
}
