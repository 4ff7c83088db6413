// ServiceProcesses: long-running `ablate` processes with their own arguments, environment and log, for the
// security, systemd and multi-host tests.
import Foundation
import TestSupport
import XCTest

/// Starts `ablate` processes (optionally through a wrapper such as `ip netns exec NS`), each logging to
/// `DIR/NAME.log`; waits on their logs; stops every one it started.
final class ServiceProcesses {
    let directory: TemporaryDirectory
    private(set) var processes: [String: Process] = [:]

    init(directory: TemporaryDirectory) {
        self.directory = directory
    }

    deinit { stopAll() }

    /// Starts `ablate ARGUMENTS` as `name` (its log is `name.log`), through `wrapper` when given.
    @discardableResult
    func start(_ name: String, _ arguments: [String], environment: [String: String] = [:], wrapper: [String] = [])
        throws -> Process
    {
        let argv = wrapper.isEmpty ? [AblateBinary.path] + arguments : wrapper + [AblateBinary.path] + arguments
        let process = try launchLogged(argv, environment: environment, log: log(name))
        processes[name] = process
        return process
    }

    func log(_ name: String) -> String { directory.file("\(name).log") }

    func logText(_ name: String) -> String { (try? String(contentsOfFile: log(name), encoding: .utf8)) ?? "" }

    /// Polls until `condition` holds or `timeout` seconds pass; then fails with the logs' tails and throws.
    func wait(_ what: String, timeout: Double, _ condition: () -> Bool) throws {
        try pollUntil(what, timeout: timeout, logs: tails, condition)
    }

    /// Waits until `name`'s log contains `text`; returns the log.
    @discardableResult
    func waitForLog(_ name: String, containing text: String, timeout: Double) throws -> String {
        try wait("'\(text)' in \(name).log", timeout: timeout) { logText(name).contains(text) }
        return logText(name)
    }

    /// Waits for `name` to exit; returns its status.
    func waitForExit(_ name: String, timeout: Double) throws -> Int32 {
        let process = try XCTUnwrap(processes[name])
        try wait("\(name) to exit", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    func signal(_ name: String, _ number: Int32) throws {
        kill(try XCTUnwrap(processes[name]).processIdentifier, number)
    }

    /// The last lines of every log.
    func tails() -> String { logTails(in: directory) }

    func stopAll() {
        for process in processes.values where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes.values { process.waitUntilExit() }
    }
}

/// Starts `argv` (an absolute executable path, then its arguments) with `environment` added to this process's,
/// its output and errors appended to the file `log` (created if missing).
func launchLogged(_ argv: [String], environment: [String: String], log: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: argv[0])
    process.arguments = Array(argv.dropFirst())
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
    let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
    try handle.seekToEnd()
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    return process
}

/// The last 25 lines of every `.log` file in `directory`, each under its name.
func logTails(in directory: TemporaryDirectory) -> String {
    directory.entries().filter { $0.hasSuffix(".log") }.sorted().map { name in
        let text = (try? String(contentsOfFile: directory.file(name), encoding: .utf8)) ?? ""
        return "--- \(name)\n" + text.split(separator: "\n").suffix(25).joined(separator: "\n")
    }.joined(separator: "\n")
}
