// CodeGlob: `*`, `?` and `**` globs over a directory tree, expanded in sorted order (the files of `code:`).
import Foundation

/// Globs as `code:` writes them: a path whose components may hold `*` (any run of characters), `?` (one character)
/// or be `**` (zero or more directories; a last `**`, every file below). Every other character is literal. A
/// wildcard component matches no name that starts with `.` unless the component itself starts with `.`; `**`
/// descends into no directory whose name starts with `.` and into no symbolic link to a directory (so a walk
/// cannot loop). Only regular files (or symbolic links to them) are matched.
public enum CodeGlob {
    /// A directory that could not be listed while expanding.
    public struct Unreadable: Error {
        public var path: String
        public var reason: String
    }

    /// Whether `pattern` holds a wildcard (`*` or `?`).
    public static func hasWildcard(_ pattern: String) -> Bool {
        pattern.contains("*") || pattern.contains("?")
    }

    /// Whether the name `name` matches the one-component pattern `pattern` (`*` and `?`; no `/` in either).
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        if name.hasPrefix("."), !pattern.hasPrefix(".") { return false }
        let p = Array(pattern)
        let n = Array(name)
        var pi = 0
        var ni = 0
        // The last `*` seen and the name position it was tried at: backtrack there on a mismatch.
        var star: (pattern: Int, name: Int)?
        while ni < n.count {
            if pi < p.count, p[pi] == "?" || p[pi] == n[ni] {
                pi += 1
                ni += 1
            } else if pi < p.count, p[pi] == "*" {
                star = (pi, ni)
                pi += 1
            } else if let held = star {
                pi = held.pattern + 1
                ni = held.name + 1
                star = (held.pattern, held.name + 1)
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// The files `pattern` matches, relative patterns against `base`: absolute, lexically normalized paths (no `.`
    /// or `..` components), sorted by their UTF-8 bytes, without duplicates.
    /// - Parameter limit: the most files to return; expansion stops after `limit + 1` (the caller reports the excess).
    /// - Throws: `Unreadable` for a directory that exists but cannot be listed.
    public static func expand(_ pattern: String, base: String, limit: Int) throws(Unreadable) -> [String] {
        let start = pattern.hasPrefix("/") ? "/" : base
        let components = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            .filter { $0 != "." }
        var found: Set<String> = []
        try walk(start, components[...], into: &found, limit: limit)
        return found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func walk(
        _ directory: String, _ rest: ArraySlice<String>, into found: inout Set<String>, limit: Int
    ) throws(Unreadable) {
        guard found.count <= limit else { return }
        guard let component = rest.first else {
            if kind(directory) == .file { found.insert(normalized(directory)) }
            return
        }
        let remaining = rest.dropFirst()
        if component == "**", remaining.isEmpty {
            // A last `**` matches every file below the directory.
            for name in try names(in: directory) where !name.hasPrefix(".") {
                let path = join(directory, name)
                if kind(path) == .file {
                    found.insert(normalized(path))
                } else if kind(path, followingLinks: false) == .directory {
                    try walk(path, rest, into: &found, limit: limit)
                }
            }
        } else if component == "**" {
            try walk(directory, remaining, into: &found, limit: limit)
            for name in try names(in: directory) where !name.hasPrefix(".") {
                let path = join(directory, name)
                if kind(path, followingLinks: false) == .directory { try walk(path, rest, into: &found, limit: limit) }
            }
        } else if hasWildcard(component) {
            for name in try names(in: directory) where matches(component, name) {
                try walk(join(directory, name), remaining, into: &found, limit: limit)
            }
        } else {
            let path = join(directory, component)
            if remaining.isEmpty || kind(path) == .directory { try walk(path, remaining, into: &found, limit: limit) }
        }
    }

    /// The entries of `directory` in sorted order; none when it is not a directory.
    private static func names(in directory: String) throws(Unreadable) -> [String] {
        guard kind(directory) == .directory else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted {
                Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
            }
        } catch {
            throw Unreadable(path: directory, reason: "cannot list the directory (permission denied?)")
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    enum Kind { case file, directory, other, missing }

    /// What is at `path`: a regular file, a directory, something else or nothing (symbolic links followed unless
    /// `followingLinks` is false, when a link is `other`).
    static func kind(_ path: String, followingLinks: Bool = true) -> Kind {
        var status = stat()
        let result = followingLinks ? stat(path, &status) : lstat(path, &status)
        guard result == 0 else { return .missing }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// `path` (absolute) without `.` and `..` components; `..` above the root stays at the root.
    public static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
