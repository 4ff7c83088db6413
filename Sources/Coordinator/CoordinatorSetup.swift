// CoordinatorSetup: from a sweep file and a state directory to a ready scheduler — hashes, plan, ledger, artifacts.
import AblateSupport
import DatasetKit
import Foundation
import Logging
import RunSpec
import TransferKit
import WireProtocol

/// Everything the coordinator loop starts from.
public struct CoordinatorSetup {
    public let sweep: Sweep
    public let plan: SweepPlan
    public let ledger: Ledger
    public let store: ArtifactStore
    public let scheduler: Scheduler
    /// The adaptive-seed planner of an adaptive sweep (`seeds: {initial, max}`); nil for a list of seeds.
    public let adaptive: AdaptivePlanner?
    public let incarnation: Int
    /// Artifacts whose bytes were hashed while preparing (the dataset, a given stage-1 checkpoint).
    public let hashedAtStart: Set<String>
    /// Held while the coordinator runs: a second coordinator on the same state directory is refused.
    public let lock: StateLock
    /// Plans the cells of seeds a client adds (`ablate extend`).
    public let extensions: ExtensionPlanner

    /// Loads and checks the sweep, opens and hashes the dataset (content and file bytes) and opens, checks and
    /// hashes a given stage-1 checkpoint (a problem with either is a `SweepError` at the key naming the file), hashes
    /// each command variant's code (`CodeFiles`; git runs here, on the calling thread), then opens (or resumes) the
    /// ledger in `stateDirectory`, keeps done cells planned before code was hashed (`CodePlanning`), records the
    /// cells' code, adds the plan's cells and rebuilds the scheduler's state.
    /// - Parameter checkStage1: reads a given stage-1 checkpoint and loads its backbone (the checks a stage 2/3 run
    ///   makes of its frozen backbone), returning its config: the trainer's check (`Checkpoint.checkStage1`), passed
    ///   in so that the coordinator does not depend on the trainer.
    public static func prepare(
        sweepPath: String, stateDirectory: String, settings: CoordinatorSettings, now: Double,
        checkStage1: (String) throws -> TrainingConfig,
        logger: Logger
    ) throws -> CoordinatorSetup {
        let sweepText = try Sweep.readText(path: sweepPath)
        let directory = Sweep.directory(ofFile: sweepPath)
        let sweep = try Sweep.parse(text: sweepText, sourceName: sweepPath, workingDirectory: directory)
        let check = try withoutActuallyEscaping(checkStage1) { checkStage1 in
            try SweepCheck.run(
                sweep, code: { try CodeFiles.records(for: sweep, sweepDirectory: directory) }, checkStage1: checkStage1)
        }
        return try open(
            check, sweepText: sweepText, stateDirectory: stateDirectory, settings: settings, now: now, logger: logger)
    }

    /// `prepare(sweepPath:…)` for a sweep a lab serves from its submission (`Submission`), with `sweepDirectory` as
    /// its state directory. A local submission is read as its sweep file would be; a remote one is parsed with each
    /// file path replaced by its upload in `uploads` (`SubmissionPaths.sweep(of:uploads:)`) and takes its command
    /// variants' code from the submission (the client's files are not on this host).
    /// - Throws: `SweepError` for the sweep and its files (a path the submission lacks is a problem at its key), and
    ///   the errors of `prepare(sweepPath:…)` for the state directory.
    public static func prepare(
        submission: Submission, sweepDirectory: String, uploads: UploadStore, settings: CoordinatorSettings,
        now: Double, checkStage1: (String) throws -> TrainingConfig, logger: Logger
    ) throws -> CoordinatorSetup {
        let check = try withoutActuallyEscaping(checkStage1) { checkStage1 in
            try SubmissionCheck.run(submission, uploads: uploads, checkStage1: checkStage1)
        }
        return try open(
            check, sweepText: submission.text, stateDirectory: sweepDirectory, settings: settings, now: now,
            logger: logger)
    }

    /// The body both `prepare`s share: opens (or resumes) the ledger in `stateDirectory` for a checked sweep, keeps
    /// done cells planned before code was hashed, records the cells' code and inputs, adds the plan's cells and
    /// rebuilds the scheduler's state.
    static func open(
        _ check: SweepCheck, sweepText: String, stateDirectory: String, settings: CoordinatorSettings, now: Double,
        logger: Logger
    ) throws -> CoordinatorSetup {
        let sweep = check.sweep
        var effective = settings
        effective.maxAttempts = sweep.maxAttempts
        let (contentHash, dataset, stage1Ref) = (check.contentHash, check.dataset, check.stage1)
        let (code, inputs) = (check.code, check.inputs)
        var plan = check.plan

        if StateLayout.isLab(stateDirectory) {
            // A lab's sweeps each have their own directory; one sweep at the top would be a second, empty ledger.
            throw ArtifactStoreError(
                "\(stateDirectory): is a lab (docs/lab.md); serve it with `ablate coordinator --state \(stateDirectory) --lab`, its sweeps are in \(stateDirectory)/sweeps/<name>"
            )
        }
        try Directories.create(stateDirectory)
        let lock = try StateLock(stateDirectory: stateDirectory)
        let ledger = try Ledger(directory: stateDirectory)
        let incarnation = try ledger.beginRun(sweepName: sweep.name, sweepText: sweepText)
        let store = try ArtifactStore(stateDirectory: stateDirectory)
        if let dataset, let path = sweep.datasetPath {
            try ledger.addArtifact(
                ArtifactRecord(sha256: dataset.sha256, size: dataset.size, path: absolute(path), addedAt: now))
        }
        let served = try InputFiles.register(inputs, ledger: ledger, stateDirectory: stateDirectory, now: now)
        if let stage1Ref, case .checkpoint(let path) = sweep.stage1 {
            try ledger.addArtifact(
                ArtifactRecord(sha256: stage1Ref.sha256, size: stage1Ref.size, path: absolute(path), addedAt: now))
        }
        let before = try ledger.cells()
        let codes = try ledger.codes()
        if !code.isEmpty {
            // Done cells of a release that did not hash code keep their ids (their code assumed to be today's).
            let legacy = try SweepPlan.make(
                sweep, datasetContentHash: contentHash, stage1CheckpointSHA256: stage1Ref?.sha256, inputs: inputs)
            let kept = CodePlanning.keepingEarlierCells(plan, legacy: legacy, cells: before, codes: codes)
            plan = kept.plan
            try ledger.assumeCode(kept.assumed)
            for (variant, count) in kept.kept.sorted(by: { $0.key < $1.key }) {
                let cells = count == 1 ? "1 done cell" : "\(count) done cells"
                let line =
                    "variant \(variant): \(cells) planned before code was hashed kept (their code assumed to be today's)"
                logger.info("\(line)")
            }
        }
        // Seeds clients added (`ablate extend`) are planned again with the sweep; a variant since removed or made a
        // replica keeps its cells in the ledger, out of the plan.
        let extensionSeeds = try ledger.extensionSeeds().filter {
            sweep.variant(named: $0.variant).map { $0.replicaOf == nil } ?? false
        }
        plan.extensionCells = try plan.extensionCells(for: extensionSeeds)
        for line in CodePlanning.changes(plan, before: before, codes: codes) { logger.info("\(line)") }
        let inputRows = try ledger.inputs()
        for line in InputPlanning.changes(plan, before: before, inputs: inputRows) { logger.info("\(line)") }
        var cellInputs: [String: String] = [:]
        for cell in plan.cells + plan.laterCells + plan.extensionCells where !cell.inputs.isEmpty {
            cellInputs[cell.id] = CellInput.identityJSON(cell.inputs)
        }
        try ledger.setInputs(cellInputs)
        var cellCode: [String: CodeRecord] = [:]
        for cell in plan.cells + plan.laterCells + plan.extensionCells { cellCode[cell.id] = cell.code }
        try ledger.setCode(cellCode)
        let records = try (plan.cells + plan.extensionCells).enumerated().map { index, cell in
            try SweepPlan.record(cell, position: index < plan.cells.count ? index : index + plan.laterCells.count)
        }
        // An adaptive sweep's later cells that the ledger has planned stay planned: a restart continues the same plan.
        let plannedBefore = Set(try ledger.plannedCells().map(\.id))
        let later = plan.laterCells.filter { plannedBefore.contains($0.id) }.map(\.id)
        let added = try ledger.addCells(records)
        try ledger.setPlan(plan.cells.map(\.id) + later + plan.extensionCells.map(\.id))
        let cells = try ledger.plannedCells()
        logger.info(
            "sweep \(sweep.name): \(cells.count) cells (\(added) new, \(cells.filter { $0.state == .done }.count) done); coordinator incarnation \(incarnation)"
        )

        var files: [CellFileRecord] = []
        var artifacts: [String: Int64] = [:]
        if let dataset { artifacts[dataset.sha256] = dataset.size }
        for artifact in served.artifacts { artifacts[artifact.sha256] = artifact.size }
        if let stage1Ref { artifacts[stage1Ref.sha256] = stage1Ref.size }
        for cell in cells where cell.attempt > 0 {
            let held = try ledger.resultFiles(cell: cell.id, upTo: cell.attempt)
            files += held
            for sha in held.map(\.sha256) + [cell.resumeSHA256].compactMap({ $0 }) {
                if let artifact = try ledger.artifact(sha) { artifacts[sha] = artifact.size }
            }
        }
        let adaptive = try AdaptivePlanner(plan: plan)
        if !later.isEmpty {
            logger.info(
                "sweep \(sweep.name): \(later.count) cells of later seeds planned by earlier runs (adaptive seeds)")
        }
        var commands = try CommandPlaceholders.commands(for: plan)
        for cell in plan.cells + plan.laterCells + plan.extensionCells where !cell.inputs.isEmpty {
            commands[cell.id]?.inputs = served.refs[cell.variant]
        }
        var scheduler = Scheduler(
            settings: effective, incarnation: String(incarnation), cells: cells, files: files, artifacts: artifacts,
            dataset: dataset, stage1Checkpoint: stage1Ref, now: now, commands: commands)
        scheduler.awaitingPlan = adaptive != nil
        scheduler.sweepName = sweep.name
        scheduler.cancelledVariants = Set(try ledger.cancelledVariants())
        if !extensionSeeds.isEmpty {
            logger.info("sweep \(sweep.name): \(extensionSeeds.count) seed(s) added by clients (ablate extend) planned")
        }
        let cancelled = scheduler.cancelledVariants.sorted()
        if !cancelled.isEmpty {
            logger.notice(
                "sweep \(sweep.name): variant(s) \(cancelled.joined(separator: ", ")) cancelled by a client: their cells wait for `ablate resume`"
            )
        }
        return CoordinatorSetup(
            sweep: sweep, plan: plan, ledger: ledger, store: store, scheduler: scheduler, adaptive: adaptive,
            incarnation: incarnation,
            hashedAtStart: Set(
                [dataset?.sha256, stage1Ref?.sha256].compactMap { $0 } + served.artifacts.map(\.sha256)),
            lock: lock, extensions: ExtensionPlanner(plan: plan, inputRefs: served.refs))
    }

    /// The dataset's content hash (for cell ids) and the dataset as an artifact; both nil for a sweep without one.
    /// A native variant needs an Ablate dataset (its content hash is checked); a sweep whose variants all run commands
    /// may give any file, identified by its Ablate content hash when it is an Ablate dataset (as before) and by the
    /// SHA-256 of its bytes otherwise.
    /// - Throws: `SweepError` at the `dataset` key when the file cannot be used.
    static func datasetHashes(_ sweep: Sweep) throws -> (contentHash: String?, dataset: ArtifactRef?) {
        guard let path = sweep.datasetPath else { return (nil, nil) }
        let commandsOnly = sweep.variants.allSatisfy { $0.command != nil }
        do {
            let contentHash: String
            if commandsOnly, let ablate = try? DatasetFile(path: path).verifiedContentHash() {
                contentHash = ablate
            } else if commandsOnly {
                contentHash = try SHA256Hex.ofFile(path)
            } else {
                contentHash = try DatasetFile(path: path).verifiedContentHash()
            }
            if let pinned = sweep.datasetSHA256, pinned != contentHash {
                throw ArtifactStoreError(
                    "\(path): content hash \(contentHash) differs from the sweep's content_hash \(pinned)")
            }
            return (contentHash, try ArtifactRef.ofFile(path, name: "dataset.h5"))
        } catch {
            let hint = sweep.movedRelativePathHint(for: path).map { "; \($0)" } ?? ""
            throw sweep.fileProblem(
                at: sweep.datasetLocation, key: sweep.datasetLocation?.key ?? "dataset", "\(error)\(hint)")
        }
    }

    /// `path` made absolute against the current directory.
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
