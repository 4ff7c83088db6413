// TemporaryDirectory: a fresh directory per test, removed when the value goes away.
import Foundation

/// A fresh directory under the system's temporary directory.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "ablate-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Names of the entries in the directory (hidden ones included), sorted.
    public func entries(_ subdirectory: String = "") -> [String] {
        let directory = subdirectory.isEmpty ? path : "\(path)/\(subdirectory)"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// Writes bytes to `path/name`, creating intermediate directories.
    public func write(_ name: String, bytes: [UInt8]) {
        let url = URL(fileURLWithPath: file(name))
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
    }

    /// Writes text to `path/name`.
    public func write(_ name: String, text: String) {
        write(name, bytes: Array(text.utf8))
    }
}
