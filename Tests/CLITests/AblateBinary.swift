// AblateBinary: runs the built `ablate` executable (next to the test bundle) and captures its output.
import Foundation
import TestSupport

enum AblateBinary {
    /// The `ablate` binary in the same build directory as this test executable.
    static var path: String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // On Linux the tests run from `<build>/<name>PackageTests.xctest`; the binary sits beside it.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("ablate").path
    }

    /// Runs `ablate` with `arguments`.
    static func run(_ arguments: [String], environment: [String: String?] = [:]) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try Subprocess.capture(path, arguments, environment: environment)
    }
}
