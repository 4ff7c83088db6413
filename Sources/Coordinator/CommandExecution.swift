// CommandExecution: where and how a command cell runs — its env, workdir, resume file and checkpoint patterns.
import Foundation
import RunSpec
import WireProtocol

/// A command variant's execution settings (`env`, `workdir`, `resume_file`, `checkpoints` of the sweep; rules in
/// `ExecutionField`). Only `env` enters the cell id (it can change what the command computes); the others say where
/// the command runs and which of its files travel, not what it computes.
public struct CommandExecution: Sendable, Equatable {
    /// Extra environment variables, name → value as text (placeholders not yet filled).
    public var env: [String: String]
    /// The directory the command runs in on the worker's host; nil: the worker's working directory.
    public var workdir: String?
    /// The file below `$ABLATE_OUT` the cell resumes from; nil: `last.h5`.
    public var resumeFile: String?
    /// Glob patterns below `$ABLATE_OUT` of the files streamed back; nil: the worker's default patterns.
    public var checkpoints: [String]?

    public init(
        env: [String: String] = [:], workdir: String? = nil, resumeFile: String? = nil, checkpoints: [String]? = nil
    ) {
        self.env = env
        self.workdir = workdir
        self.resumeFile = resumeFile
        self.checkpoints = checkpoints
    }

    /// No execution settings: the command runs as before they existed.
    public static let none = CommandExecution()

    public var isEmpty: Bool { self == .none }

    /// `self`'s settings with `other`'s over them: `env` per name, the rest where `other` gives them.
    public func overridden(by other: CommandExecution) -> CommandExecution {
        CommandExecution(
            env: env.merging(other.env) { _, new in new }, workdir: other.workdir ?? workdir,
            resumeFile: other.resumeFile ?? resumeFile, checkpoints: other.checkpoints ?? checkpoints)
    }

    /// The name the resume file is known by centrally (its last path component): `last.h5` by default.
    public var resumeFileName: String { ExecutionField.baseName(resumeFile ?? ExecutionField.defaultResumeFile) }

    /// `env` as one JSON object, keys sorted by their UTF-8 bytes, no whitespace: `{"A":"1","B":"x"}`.
    public var envCanonicalJSON: String {
        let names = env.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return "{" + names.map { "\(JSONText.quoted($0)):\(JSONText.quoted(env[$0] ?? ""))" }.joined(separator: ",")
            + "}"
    }

    /// The keys this adds to the cell's identity (`CellIdentity.text`'s `extras`): `env` when there is one.
    public var identityExtras: [String: String] { env.isEmpty ? [:] : ["env": envCanonicalJSON] }
}

extension CellCommand {
    /// ASSIGN's `env`: nil when the cell has none (ASSIGN then looks as before env existed).
    public var assignEnv: [String: String]? { execution.env.isEmpty ? nil : execution.env }
}

extension Scheduler {
    /// The central name of the file `cell` resumes from: its command's `resume_file` (last component), else `last.h5`.
    public func resumeFileName(of cell: String) -> String {
        commands[cell]?.execution.resumeFileName ?? ExecutionField.defaultResumeFile
    }
}
