// SubmissionPaths: the file paths a sweep names, their keys in a submission, and a sweep with them replaced.
import Foundation

/// One file or directory a sweep names: the dataset, the stage-1 checkpoint, or a command variant's input.
public struct SweepFilePath: Sendable, Equatable {
    /// Which key of the sweep names the path.
    public enum Role: Sendable, Equatable {
        case dataset
        case stage1Checkpoint
        /// An input of a command variant (`inputs:`), by variant and input name.
        case input(variant: String, name: String)
    }

    public var role: Role
    /// The path as parsed: absolute, resolved against the directory the sweep was parsed with.
    public var path: String
    /// Where the path is written; nil for a sweep built in code.
    public var location: SweepKeyLocation?
}

/// How a remote submission names its files without a directory on the coordinator's host.
///
/// **Why rewriting the parsed sweep.** The sweep parser resolves every path against one working directory as it
/// reads (`SweepParser.absolutePath`), in several places (dataset, stage-1 checkpoint, the inputs of the `train`
/// block and of each variant). Rather than threading a resolver hook through all of them, a submitted sweep is
/// parsed against a fixed directory that exists nowhere (`root`), which makes each path's parsed form a function of
/// the text alone: its **key** (`key(ofParsed:)`) is that path relative to `root` when below it, else absolute.
/// The client parses the same text against `root` too, pairs each key with the path its own parse gives (the two
/// parses list the paths in the same order, `paths(of:)`), and uploads that file under the key; the coordinator
/// then rewrites the parsed `Sweep` value, replacing each path by its upload (`replacing`). The parser is unchanged
/// and a local sweep goes through exactly the code it always did.
///
/// A path starting with `~` is expanded by each host for itself: in a submitted sweep it only works when both
/// expand it alike; write such paths relative to the sweep file, or absolute.
public enum SubmissionPaths {
    /// The directory a submitted sweep is parsed against: not a directory of any host.
    public static let root = "/.ablate-submitted-sweep"

    /// The sweep of `text` parsed against `root`.
    /// - Throws: `SweepError` with every problem of the text.
    public static func parse(text: String, sourceName: String) throws -> Sweep {
        try Sweep.parse(text: text, sourceName: sourceName, workingDirectory: root)
    }

    /// A path of a sweep parsed against `root`, as a key: relative to `root` when below it, else as it is.
    public static func key(ofParsed path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    /// Every file path `sweep` names, in a fixed order: the dataset, the stage-1 checkpoint, then each command
    /// variant's inputs (variants in file order, inputs by name). A path named at several places is listed at each.
    public static func paths(of sweep: Sweep) -> [SweepFilePath] {
        var paths: [SweepFilePath] = []
        if let dataset = sweep.datasetPath {
            paths.append(SweepFilePath(role: .dataset, path: dataset, location: sweep.datasetLocation))
        }
        if case .checkpoint(let path) = sweep.stage1 {
            paths.append(
                SweepFilePath(role: .stage1Checkpoint, path: path, location: sweep.stage1CheckpointLocation))
        }
        for variant in sweep.variants where variant.command != nil {
            for input in variant.inputs {
                paths.append(
                    SweepFilePath(
                        role: .input(variant: variant.name, name: input.name), path: input.path,
                        location: input.location))
            }
        }
        return paths
    }

    /// `sweep` with each path `paths(of:)` lists replaced by `replacement` of it.
    public static func replacing(_ sweep: Sweep, _ replacement: (SweepFilePath) -> String) -> Sweep {
        var sweep = sweep
        for file in paths(of: sweep) {
            let new = replacement(file)
            switch file.role {
            case .dataset: sweep.datasetPath = new
            case .stage1Checkpoint: sweep.stage1 = .checkpoint(path: new)
            case .input(let variantName, let inputName):
                guard let variant = sweep.variants.firstIndex(where: { $0.name == variantName }),
                    let input = sweep.variants[variant].inputs.firstIndex(where: { $0.name == inputName })
                else { continue }
                sweep.variants[variant].inputs[input].path = new
            }
        }
        return sweep
    }

    /// The sweep of a submission, its paths where this host has the files: a local submission parsed against its
    /// working directory; a remote one parsed against `root`, each path replaced by its upload in `uploads`.
    /// - Throws: `SweepError` with every problem of the text, and one at each path that `files` lacks.
    public static func sweep(of submission: Submission, uploads: UploadStore) throws -> Sweep {
        guard submission.isRemote else {
            return try Sweep.parse(
                text: submission.text, sourceName: submission.sourceName,
                workingDirectory: submission.workingDirectory)
        }
        let parsed = try parse(text: submission.text, sourceName: submission.sourceName)
        var problems: [SweepProblem] = []
        let sweep = replacing(parsed) { file in
            let key = key(ofParsed: file.path)
            guard let sha = submission.files[key] else {
                problems.append(
                    SweepProblem(
                        line: file.location?.line ?? 0, column: file.location?.column ?? 0,
                        key: file.location?.key ?? "", message: "'\(key)' is not among the submitted files"))
                return file.path
            }
            return uploads.path(of: sha)
        }
        guard problems.isEmpty else { throw SweepError(sourceName: submission.sourceName, problems: problems) }
        return sweep
    }
}
