// SweepReader: reads typed values out of a sweep file's nodes and collects a problem for each bad one.
import Foundation
import Yams

/// One key of a mapping with its value and key path.
struct SweepEntry {
    var key: String
    var keyNode: Node
    var value: Node
    /// `variants.poly.epsilon`.
    var path: String
    var line: Int { keyNode.mark?.line ?? 0 }
}

/// Reads nodes, recording every problem instead of stopping at the first.
struct SweepReader {
    var problems: [SweepProblem] = []
    let duplicates: [String: DuplicateKey]

    init(duplicates: [String: DuplicateKey]) {
        self.duplicates = duplicates
    }

    mutating func report(_ node: Node?, _ key: String, _ message: String) {
        let mark = node?.mark
        problems.append(SweepProblem(line: mark?.line ?? 0, column: mark?.column ?? 0, key: key, message: message))
    }

    mutating func report(_ entry: SweepEntry, _ message: String) {
        report(entry.keyNode, entry.path, message)
    }

    /// The mapping's entries in file order. Duplicates (renamed while composing, or equal keys that Yams told
    /// apart by tag) and keys that are not scalars are reported and left out.
    mutating func entries(of node: Node, path: String) -> [SweepEntry]? {
        if node.null != nil { return [] }
        guard let mapping = node.mapping else {
            report(node, path, "expected a mapping of keys to values, found \(Self.describe(node))")
            return nil
        }
        var seen: [String: Int] = [:]
        var out: [SweepEntry] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(keyNode, path, "a key must be a plain name, found \(Self.describe(keyNode))")
                continue
            }
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if let duplicate = duplicates[key] {
                let fullPath = path.isEmpty ? duplicate.name : "\(path).\(duplicate.name)"
                report(keyNode, fullPath, "duplicate key (first on line \(duplicate.firstLine))")
                continue
            }
            if let firstLine = seen[key] {
                report(keyNode, keyPath, "duplicate key (first on line \(firstLine))")
                continue
            }
            seen[key] = keyNode.mark?.line ?? 0
            out.append(SweepEntry(key: key, keyNode: keyNode, value: value, path: keyPath))
        }
        return out
    }

    // MARK: - Typed values

    mutating func string(_ entry: SweepEntry) -> String? {
        guard let scalar = entry.value.scalar, entry.value.null == nil else {
            report(entry, "expected a text value, found \(Self.describe(entry.value))")
            return nil
        }
        guard !scalar.string.isEmpty else {
            report(entry, "must not be empty")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ entry: SweepEntry, atLeast minimum: Int) -> Int? {
        guard let scalar = entry.value.scalar, let value = Int.construct(from: scalar) else {
            report(entry, "expected an integer, found \(Self.describe(entry.value))")
            return nil
        }
        guard value >= minimum else {
            report(entry, "\(value) must be at least \(minimum)")
            return nil
        }
        return value
    }

    mutating func uint64(_ node: Node, path: String) -> UInt64? {
        guard let scalar = node.scalar, let value = UInt64.construct(from: scalar) else {
            report(node, path, "expected a non-negative integer, found \(Self.describe(node))")
            return nil
        }
        return value
    }

    mutating func number(_ entry: SweepEntry) -> Double? {
        guard let scalar = entry.value.scalar, let value = Double.construct(from: scalar), value.isFinite else {
            report(entry, "expected a finite number, found \(Self.describe(entry.value))")
            return nil
        }
        return value
    }

    mutating func sequence(_ entry: SweepEntry) -> [Node]? {
        guard let sequence = entry.value.sequence else {
            report(entry, "expected a list, found \(Self.describe(entry.value))")
            return nil
        }
        return Array(sequence)
    }

    /// A non-empty list of non-empty strings (a command line).
    mutating func stringList(_ entry: SweepEntry) -> [String]? {
        guard let items = sequence(entry) else { return nil }
        guard !items.isEmpty else {
            report(entry, "must not be empty")
            return nil
        }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.scalar?.string, item.null == nil, !text.isEmpty else {
                report(item, "\(entry.path)[\(index)]", "expected a non-empty text, found \(Self.describe(item))")
                return nil
            }
            out.append(text)
        }
        return out
    }

    /// Reports an unknown key, suggesting the nearest known one.
    mutating func reportUnknown(_ entry: SweepEntry, known: [String], what: String) {
        var message = "unknown key (\(what))"
        let suggestions = Self.suggestions(for: entry.key, in: known).map { "'\($0)'" }
        if let last = suggestions.last {
            let choices = suggestions.count == 1 ? last : suggestions.dropLast().joined(separator: ", ") + " or " + last
            message += "; did you mean \(choices)?"
        }
        report(entry, message)
    }

    // MARK: - Helpers

    /// How a node reads in an error message.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if node.null != nil { return "no value" }
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
                return "the quoted text \"\(scalar.string)\""
            }
            return "'\(scalar.string)'"
        }
    }

    /// What an unknown `name` may have meant: the known name within edit distance 2; else the family of names it is
    /// the first word of, when there are at most three (`lr` → `lr_adapter`, `lr_backbone`, `lr_head`; a larger
    /// family suggests nothing); else the longest known name that starts it or that it starts (`gamma_positive` →
    /// `gamma_pos` rather than `gamma`).
    static func suggestions(for name: String, in known: [String]) -> [String] {
        let ranked = known.map { ($0, editDistance(name, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        if let best = ranked.first, best.1 <= 2 { return [best.0] }
        let family = known.filter { $0.hasPrefix(name + "_") }.sorted()
        if !family.isEmpty { return family.count <= 3 ? family : [] }
        guard name.count >= 3 else { return [] }
        return known.filter { $0.hasPrefix(name) || name.hasPrefix($0) }.max { $0.count < $1.count }.map { [$0] } ?? []
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Names usable in paths and reports: letters, digits, `.`, `_`, `-`, starting with a letter or digit.
    static func isSafeName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetterOrDigit(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetterOrDigit($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
