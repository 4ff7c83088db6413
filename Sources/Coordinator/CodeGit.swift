// CodeGit: the git commit of the sweep's directory and whether code files differ from it, asked of `git` itself.
import Foundation

/// Git facts about a sweep's code, from the `git` program (found on `PATH`). Outside a work tree, or without git,
/// there are none. Each call starts child processes and waits for them: call it off Swift's cooperative pool.
public enum CodeGit {
    /// `git -C directory rev-parse HEAD`, and whether `git status --porcelain -- files` lists any of `files`
    /// (absolute paths): modified, staged, deleted or untracked. Both nil outside a work tree or without git; `dirty`
    /// nil when git cannot tell (a file outside the work tree).
    /// - Parameter program: the git program's name on `PATH` (tests name a missing one).
    public static func provenance(directory: String, files: [String], program: String = "git") -> (
        commit: String?, dirty: Bool?
    ) {
        guard let head = run(program, ["-C", directory, "rev-parse", "--verify", "-q", "HEAD"]) else {
            return (nil, nil)
        }
        let commit = head.trimmingCharacters(in: .whitespacesAndNewlines)
        guard commit.count == 40 || commit.count == 64, commit.allSatisfy(\.isHexDigit) else { return (nil, nil) }
        guard let status = run(program, ["-C", directory, "status", "--porcelain", "--"] + files) else {
            return (commit, nil)
        }
        return (commit, !status.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    /// Runs `program arguments`; its standard output when it exits 0, else nil (git missing, not a work tree, …).
    static func run(_ program: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
