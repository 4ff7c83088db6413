// SweepCheck: a parsed sweep's files checked and hashed, and its plan made — everything before the state directory.
import AblateSupport
import Foundation
import RunSpec
import TransferKit
import WireProtocol

/// What the checks of a sweep give before any state is touched: the dataset opened and hashed, a given stage-1
/// checkpoint loaded and hashed, each command variant's code and inputs hashed, and the plan of its cells. Made by
/// `ablate coordinator` (through `CoordinatorSetup.prepare`), by `ablate submit` on the client before anything is
/// sent, and by the lab for a submission (`SubmissionDesk`).
public struct SweepCheck {
    public let sweep: Sweep
    /// The dataset's content hash (it enters cell ids) and the dataset as an artifact; nil without a dataset.
    public let contentHash: String?
    public let dataset: ArtifactRef?
    public let stage1: ArtifactRef?
    public let code: [String: CodeRecord]
    public let inputs: [String: [CellInput]]
    public let plan: SweepPlan

    /// Checks `sweep`'s files, in this order: the dataset (`CoordinatorSetup.datasetHashes`), the stage-1
    /// checkpoint (`checkStage1`, then its width against the native variants', then its bytes hashed), the code
    /// (`code`: `CodeFiles.records` for a sweep file on this host, the client's records for a submission), the
    /// inputs (`InputFiles.records`); then plans the cells.
    /// - Parameters:
    ///   - checkStage1: loads a stage-1 checkpoint's backbone and returns its config (the trainer's check, passed
    ///     in); nil skips the load (the bytes are still hashed).
    ///   - allProblems: false: the first check that fails throws, as `ablate coordinator` always did; true: every
    ///     check runs and the problems of all of them are thrown together in one `SweepError`.
    /// - Throws: `SweepError` at the key naming each file that cannot be used.
    public static func run(
        _ sweep: Sweep, code: () throws -> [String: CodeRecord], checkStage1: ((String) throws -> TrainingConfig)?,
        allProblems: Bool = false
    ) throws -> SweepCheck {
        var problems: [SweepProblem] = []
        func attempt<T>(_ step: () throws -> T) throws -> T? {
            do { return try step() } catch let error as SweepError where allProblems {
                problems += error.problems
                return nil
            }
        }
        let hashes = try attempt { try CoordinatorSetup.datasetHashes(sweep) }
        let stage1 = try attempt { try stage1Artifact(sweep, checkStage1: checkStage1) }
        let records = try attempt(code)
        let inputs = try attempt { try InputFiles.records(for: sweep) }
        if !problems.isEmpty { throw SweepError(sourceName: sweep.sourceName, problems: problems) }
        // A step that failed without `allProblems` has thrown: each result is here.
        guard let hashes, let stage1, let records, let inputs else {
            throw SweepError(
                sourceName: sweep.sourceName,
                problems: [SweepProblem(line: 0, column: 0, key: "", message: "incomplete sweep")])
        }
        let plan = try SweepPlan.make(
            sweep, datasetContentHash: hashes.contentHash, stage1CheckpointSHA256: stage1?.sha256, code: records,
            inputs: inputs)
        return SweepCheck(
            sweep: sweep, contentHash: hashes.contentHash, dataset: hashes.dataset, stage1: stage1, code: records,
            inputs: inputs, plan: plan)
    }

    /// A given stage-1 checkpoint checked and hashed; nil for a sweep without one.
    private static func stage1Artifact(_ sweep: Sweep, checkStage1: ((String) throws -> TrainingConfig)?) throws
        -> ArtifactRef?
    {
        guard case .checkpoint(let path) = sweep.stage1 else { return nil }
        do {
            if let checkStage1 {
                let stage1 = try checkStage1(path)
                // The cells of the built-in trainer load its backbone: their width must be its width.
                let others = sweep.variants.filter { $0.command == nil && $0.config.width != stage1.width }
                if !others.isEmpty {
                    let widths = Set(others.map(\.config.width)).sorted().map(String.init).joined(separator: ", ")
                    throw ArtifactStoreError(
                        "\(path): is a width-\(stage1.width) stage-1 model but variants \(others.map(\.name).joined(separator: ", ")) use width \(widths)"
                    )
                }
            }
            return try ArtifactRef.ofFile(path, name: "stage1.h5")
        } catch {
            let hint = sweep.movedRelativePathHint(for: path).map { "; \($0)" } ?? ""
            throw sweep.fileProblem(at: sweep.stage1CheckpointLocation, key: "stage1_checkpoint", "\(error)\(hint)")
        }
    }
}
