// Python: runs python3 for optional cross-checks (e.g. h5py), reporting whether a module is importable.
import Foundation

/// Access to the machine's python3, for checks that run only where a module is installed.
public enum Python {
    /// Whether `python3 -c "import <module>"` succeeds.
    public static func canImport(_ module: String) -> Bool {
        (try? run(["-c", "import \(module)"]).status) == 0
    }

    /// Runs python3 with arguments; returns exit status and combined output.
    public static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Subprocess.run("/usr/bin/env", ["python3"] + arguments)
    }
}

/// Runs a program to completion and captures its output.
public enum Subprocess {
    /// Runs `executable` with `arguments`; returns the exit status, stdout and stderr.
    public static func capture(_ executable: String, _ arguments: [String], environment: [String: String?] = [:]) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            process.environment = merged
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    /// Runs and returns the status and stdout+stderr together.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try capture(executable, arguments)
        return (result.status, result.stdout + result.stderr)
    }
}
