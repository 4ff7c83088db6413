// CodeFiles: resolves each command variant's `code:` (or its command's script) to hashed files when a sweep is planned.
import AblateSupport
import Foundation
import RunSpec

/// The code of a sweep's command variants: each `code:` pattern expanded (`CodeGlob`) and every file hashed, or,
/// for a command variant without `code:`, the first argument of its command that names an existing regular file
/// under the sweep file's directory (`defaultFile`). Native variants and `code: []` have no code.
public enum CodeFiles {
    /// The most files one variant's code may have.
    public static let maximumFiles = 10_000
    /// The most bytes one variant's code may have, over all its files (1 GiB).
    public static let maximumBytes: Int64 = 1 << 30

    /// Each variant's code record, by variant name (a variant without code is absent); with git's commit and dirty
    /// flag when the sweep's directory is in a git work tree. Runs git as a child process and waits for it: call it
    /// off Swift's cooperative pool.
    /// - Parameters:
    ///   - sweepDirectory: the absolute directory of the sweep file; relative patterns are resolved against it.
    ///   - limits: the most files and bytes per variant (tests lower them).
    /// - Throws: `SweepError` with a problem at the `code` entry of each pattern that matches nothing, names a
    ///   directory without a glob, a file that cannot be read, or passes a limit.
    public static func records(
        for sweep: Sweep, sweepDirectory: String, limits: (files: Int, bytes: Int64) = (maximumFiles, maximumBytes),
        git: (_ directory: String, _ files: [String]) -> (commit: String?, dirty: Bool?) = {
            CodeGit.provenance(directory: $0, files: $1)
        }
    ) throws -> [String: CodeRecord] {
        let directory = CodeGlob.normalized(sweepDirectory)
        var problems: Set<SweepProblem> = []
        var records: [String: CodeRecord] = [:]
        var resolved: [String: [String]] = [:]
        var provenance: [[String]: (commit: String?, dirty: Bool?)] = [:]
        // Each file is hashed once, however many variants share it (the `train` block's list, the same script).
        var hashes: [String: String] = [:]
        for variant in sweep.variants where variant.command != nil {
            let paths: [String]
            if let spec = variant.code {
                let place = "\(spec.location.line):\(spec.location.column)"
                if let held = resolved[place] {
                    paths = held
                } else {
                    let found = files(of: spec, directory: directory, limits: limits)
                    problems.formUnion(found.problems)
                    paths = found.paths
                    resolved[place] = paths
                }
            } else if let argv = variant.command, let path = defaultFile(argv, directory: directory) {
                paths = [path]
            } else {
                paths = []
            }
            guard !paths.isEmpty else { continue }
            var hashed: [CodeFile] = []
            for path in paths {
                if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                    // A line of the hash's text per file: a path with a line break would make it ambiguous.
                    let location = variant.code?.location
                    problems.insert(
                        problem(
                            at: location, key: "variants.\(variant.name).command",
                            "\(path.debugDescription): a code file's path must not contain control characters"))
                    continue
                }
                do {
                    let sha256 = try hashes[path] ?? SHA256Hex.ofFile(path)
                    hashes[path] = sha256
                    hashed.append(CodeFile(path: recordedPath(path, directory: directory), sha256: sha256))
                } catch {
                    let location = variant.code?.location
                    problems.insert(problem(at: location, key: "variants.\(variant.name).command", "\(path): \(error)"))
                }
            }
            guard hashed.count == paths.count else { continue }
            let facts = provenance[paths] ?? git(directory, paths)
            provenance[paths] = facts
            records[variant.name] = CodeRecord(files: hashed, commit: facts.commit, dirty: facts.dirty)
        }
        guard problems.isEmpty else { throw SweepError(sourceName: sweep.sourceName, problems: Array(problems)) }
        return records
    }

    /// The files of a `code:` list: each pattern's, in pattern order then sorted, deduplicated; problems at the
    /// patterns that cannot be used.
    static func files(of spec: CodeSpec, directory: String, limits: (files: Int, bytes: Int64)) -> (
        paths: [String], problems: [SweepProblem]
    ) {
        var problems: [SweepProblem] = []
        var paths: [String] = []
        var seen: Set<String> = []
        var bytes: Int64 = 0
        for pattern in spec.patterns {
            let found: [String]
            do {
                found = try expand(pattern.text, directory: directory, limit: limits.files)
            } catch {
                problems.append(problem(at: pattern.location, key: "code", error.message))
                continue
            }
            for path in found where seen.insert(path).inserted {
                paths.append(path)
                bytes += fileSize(path)
            }
            if paths.count > limits.files {
                problems.append(
                    problem(
                        at: pattern.location, key: "code",
                        "more than \(limits.files) files; hash at most \(limits.files) files (narrow the globs)"))
                return ([], problems)
            }
            if bytes > limits.bytes {
                problems.append(
                    problem(
                        at: pattern.location, key: "code",
                        "the files hold more than \(limits.bytes) bytes; hash at most \(limits.bytes) bytes"
                            + " (narrow the globs)"
                    ))
                return ([], problems)
            }
        }
        return (problems.isEmpty ? paths : [], problems)
    }

    /// Why a pattern cannot be used.
    struct PatternProblem: Error {
        var message: String
    }

    /// The files of one pattern; a literal path must be a readable regular file, a glob must match one.
    static func expand(_ pattern: String, directory: String, limit: Int) throws(PatternProblem) -> [String] {
        let expanded = pattern.hasPrefix("~") ? NSString(string: pattern).expandingTildeInPath : pattern
        guard CodeGlob.hasWildcard(expanded) else {
            let path = CodeGlob.normalized(expanded.hasPrefix("/") ? expanded : directory + "/" + expanded)
            switch CodeGlob.kind(path) {
            case .missing: throw PatternProblem(message: "\(path): no such file")
            case .directory:
                throw PatternProblem(message: "\(path): is a directory; write '\(pattern)/**' to hash the files in it")
            case .other: throw PatternProblem(message: "\(path): not a regular file")
            case .file:
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw PatternProblem(message: "\(path): cannot be read (permission denied)")
                }
                return [path]
            }
        }
        let found: [String]
        do {
            found = try CodeGlob.expand(expanded, base: directory, limit: limit)
        } catch {
            throw PatternProblem(message: "\(error.path): \(error.reason)")
        }
        guard !found.isEmpty else {
            throw PatternProblem(message: "'\(pattern)' matches no file (relative to \(directory))")
        }
        if let unreadable = found.first(where: { !FileManager.default.isReadableFile(atPath: $0) }) {
            throw PatternProblem(message: "\(unreadable): cannot be read (permission denied)")
        }
        return found
    }

    /// The file a command without `code:` is taken to run: its first argument, scanning from the program on and
    /// skipping arguments with placeholders, that names an existing regular file under `directory` (a relative
    /// argument resolved against it, an absolute one inside it); nil when none does.
    public static func defaultFile(_ argv: [String], directory: String) -> String? {
        let root = CodeGlob.normalized(directory)
        for argument in argv where !argument.isEmpty && CommandPlaceholderText.names(in: argument).isEmpty {
            let path = CodeGlob.normalized(argument.hasPrefix("/") ? argument : root + "/" + argument)
            guard path.hasPrefix(root == "/" ? "/" : root + "/"), CodeGlob.kind(path) == .file else { continue }
            return path
        }
        return nil
    }

    /// The path a file is recorded under: relative to the sweep's directory when inside it, else absolute.
    static func recordedPath(_ path: String, directory: String) -> String {
        let prefix = directory == "/" ? "/" : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    private static func fileSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }

    private static func problem(at location: SweepKeyLocation?, key: String, _ message: String) -> SweepProblem {
        SweepProblem(
            line: location?.line ?? 0, column: location?.column ?? 0, key: location?.key ?? key, message: message)
    }
}
