// CommandInput: one input of a command attempt on the worker — where its artifact is cached and where the command finds it.
import Foundation
import TransferKit
import WireProtocol

/// An input of a command cell on this host: a file is used where the artifact cache holds it (named by its
/// SHA-256, made read-only); a directory is materialised read-only from its archive once per host, at `inputs/<sha256>` of the
/// cache (`InputArchive.materialise`), and shared by every cell and worker process of the host that uses it.
public struct CommandInput: Sendable, Equatable {
    public var ref: InputRef
    /// The fetched artifact: the file, or the directory's archive.
    public var artifactPath: String
    /// The host's directory of materialised directory inputs.
    public var inputsDirectory: String

    public init(ref: InputRef, artifactPath: String, inputsDirectory: String) {
        self.ref = ref
        self.artifactPath = artifactPath
        self.inputsDirectory = inputsDirectory
    }

    /// The absolute path the command gets in `ABLATE_INPUT_<NAME>`.
    public var path: String {
        switch ref.kind {
        case .file: artifactPath
        case .directory: "\(inputsDirectory)/\(ref.sha256)"
        }
    }

    /// Makes every file input read-only in the cache (a command cannot spoil the copy other cells share) and
    /// materialises every directory input that is not yet; returns why one cannot be, as one line, or nil.
    static func materialiseAll(_ inputs: [CommandInput]) -> String? {
        for input in inputs where input.ref.kind == .file { chmod(input.artifactPath, 0o444) }
        for input in inputs where input.ref.kind == .directory {
            do {
                try InputArchive.materialise(archive: input.artifactPath, sha256: input.ref.sha256, at: input.path)
            } catch {
                return "cannot materialise input '\(input.ref.name)': \(error)"
            }
        }
        return nil
    }
}
