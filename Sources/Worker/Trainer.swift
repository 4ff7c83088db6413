// Trainer: one training run end to end — data, model, loss, AdamW, plateau schedule, early stopping, checkpoints, resume.
import AblateSupport
import DatasetKit
import Foundation
import Logging
import NN
import RunSpec

/// Trains one model on one dataset as the research pipeline's training protocol does and writes `metrics.jsonl`,
/// `best.h5` (full model), `last.h5` (for resuming: slim for adapter stages, with optimizer and trainer state),
/// `best.slim.h5` (adapter stages) and `summary.json` to its directory.
/// A run is a function of (config, dataset, stage-1 checkpoint, seed) on a given machine and BLAS thread count; a
/// run resumed from `last.h5` of any epoch ends bit for bit where the uninterrupted run ends.
public final class Trainer {
    public let config: TrainingConfig
    public let datasetPath: String
    public let stage1CheckpointPath: String?
    public let outputDirectory: String
    /// Gets one line per epoch (info) and notices.
    public var logger: Logger
    /// Stop after this many epochs in this invocation (to test resuming); nil = run to the end.
    public var stopAfterEpochs: Int?
    /// Version string written into checkpoints.
    public var codeVersion = "dev"
    /// Whether to train from the exact frozen-prefix cache when the run allows it (results are the same).
    public var usePrefixCache = true
    /// Where prefix caches live (nil = `PrefixCache.defaultDirectory()`).
    public var cacheDirectory: String?
    /// Called after each epoch's files are written (a worker streams them from here).
    public var onEpoch: ((EpochOutputs) -> Void)?
    /// Polled between batches; when it returns true the run stops with `TrainingError.cancelled` (its last
    /// completed epoch stays the resume point).
    public var isCancelled: (() -> Bool)?
    /// Told, at most once a second and at each phase's start, how far the run is in the cache build, an epoch's
    /// training or its validation (on the training thread; a worker puts it into its heartbeats).
    public var onProgress: ((TrainingProgress) -> Void)?

    public init(
        config: TrainingConfig, datasetPath: String, stage1CheckpointPath: String?, outputDirectory: String,
        logger: Logger = Logger(label: "trainer")
    ) {
        self.config = config
        self.datasetPath = datasetPath
        self.stage1CheckpointPath = stage1CheckpointPath
        self.outputDirectory = outputDirectory
        self.logger = logger
    }

    /// Runs (or resumes from `resume`, a `last.h5`) and returns the summary; a diverged run returns status `diverged`.
    @discardableResult
    public func run(resume: String? = nil) throws -> TrainingSummary {
        do { try config.validate() } catch { throw TrainingError.badConfig(error.detail) }
        BLAS.setThreadCount(config.threads)
        // The run's buffers stay in this thread's pool from step to step; the next run's shapes may differ.
        defer { BufferPool.current.removeAll() }
        let start = Date()
        try Directories.create(outputDirectory)

        let dataset = try DatasetFile(path: datasetPath)
        let datasetHash = try dataset.verifiedContentHash()
        let train = try StageData.load(dataset, split: "train", stage: config.stage, maxRows: config.maxTrainRows)
        let val = try StageData.load(dataset, split: "val", stage: config.stage, maxRows: config.maxValRows)

        let model = PartitionModel(config.model, seed: config.seed)
        var stage1Hash = ""
        if config.stage.usesAdapters {
            guard let stage1CheckpointPath else {
                throw TrainingError.badConfig(
                    "stage \(config.stage.rawValue) needs --stage1-checkpoint (the frozen backbone)")
            }
            let stage1 = try Checkpoint.read(stage1CheckpointPath)
            let stage1Config = try stage1.config()
            guard stage1Config.stage == .stage1 else {
                throw TrainingError.badCheckpoint(
                    path: stage1CheckpointPath,
                    detail: "is a stage \(stage1Config.stage.rawValue) checkpoint, not stage 1")
            }
            try Checkpoint.load(stage1, into: model, prefix: "backbone.")
            stage1Hash = try Self.sha256(ofFile: stage1CheckpointPath)
        }

        let progress = ProgressThrottle(onProgress)
        // Train from the frozen prefix's cached output when the run allows it; else through the whole backbone.
        var trainInputs = train
        var valInputs = val
        var fromPrefix = false
        if config.stage.usesAdapters {
            if !usePrefixCache {
                logger.info("frozen-prefix cache: off; training through the whole backbone")
            } else if let reason = PrefixCache.inapplicability(config) {
                logger.info("frozen-prefix cache: not used (\(reason)); training through the whole backbone")
            } else if let last = model.frozenPrefixLastStage {
                let key = PrefixCache.keyText(
                    config: config, lastStage: last, datasetHash: datasetHash, stage1Hash: stage1Hash,
                    trainRows: train.count, valRows: val.count)
                let features = try PrefixCache.features(
                    model: model, train: train, val: val, keyText: key,
                    directory: cacheDirectory ?? PrefixCache.defaultDirectory(),
                    threads: config.threads, logger: logger
                ) { done, total in progress.report(.cache, done: done, total: total) }
                trainInputs = train.replacingInputs(features.train, rowShape: features.rowShape)
                valInputs = val.replacingInputs(features.val, rowShape: features.rowShape)
                fromPrefix = true
            }
        }

        let classWeights = Loss.classBalancedWeights(
            counts: train.classCounts.map { max($0, 1) }, beta: config.classWeightBeta)
        let loss = Loss(kind: try config.lossKind(), classWeights: classWeights)
        let groups =
            config.stage.usesAdapters
            ? [
                AdamW.Group(
                    name: "adapters", prefix: "adapters.", learningRate: config.lrAdapter,
                    weightDecay: config.weightDecay),
                AdamW.Group(
                    name: "head", prefix: "head.", learningRate: config.lrHead, weightDecay: config.weightDecay),
            ]
            : [
                AdamW.Group(
                    name: "backbone", prefix: "backbone.", learningRate: config.lrBackbone,
                    weightDecay: config.weightDecay),
                AdamW.Group(
                    name: "head", prefix: "head.", learningRate: config.lrHead, weightDecay: config.weightDecay),
            ]
        let optimizer = AdamW(store: model.store, groups: groups)

        var state = TrainerState(
            epochsCompleted: 0, history: [],
            scheduler: ReduceLROnPlateau(
                factor: config.schedulerFactor, patience: config.schedulerPatience, threshold: config.schedulerThreshold
            ),
            earlyStopping: EarlyStopping(patience: config.earlyStoppingPatience),
            learningRates: groups.map(\.learningRate),
            random: PCG64(seed: config.seed ^ 0x5A17_AB1A_7E00_0001).savedState,
            status: .running)
        if let resume {
            state = try restore(
                resume, model: model, optimizer: optimizer, datasetHash: datasetHash, stage1Hash: stage1Hash)
            logger.info("resuming from \(resume) after epoch \(state.epochsCompleted)")
        }
        try rewriteMetricsLog(state.history)

        let configJSON = try config.canonicalJSON()
        let info = { (epoch: Int, kind: CheckpointInfo.Kind) in
            CheckpointInfo(
                kind: kind, configJSON: configJSON, datasetHash: datasetHash, stage1Hash: stage1Hash,
                seed: self.config.seed, epoch: epoch, codeVersion: self.codeVersion, blasCore: BLAS.coreName,
                blasThreads: self.config.threads, gemmKernel: GEMMKernel.selected.rawValue)
        }
        var random = PCG64(restoring: state.random)
        var divergedAt: Int?
        var epochsThisRun = 0
        while state.status == .running, state.epochsCompleted < config.epochs {
            let epoch = state.epochsCompleted + 1
            let epochStart = Date()
            for (index, rate) in state.learningRates.enumerated() { optimizer.groups[index].learningRate = rate }
            guard
                let trainMetrics = try trainEpoch(
                    model, optimizer, loss, trainInputs, fromPrefix: fromPrefix, random: &random, progress: progress)
            else {
                divergedAt = epoch
                state.status = .diverged
                logger.warning("epoch \(epoch): the training loss is not finite; the run diverged")
                break
            }
            if isCancelled?() == true { throw TrainingError.cancelled }
            progress.report(.validate, done: 0, total: valInputs.count)
            let (valMetrics, valLogits) = evaluate(model, loss, valInputs, fromPrefix: fromPrefix)
            let usedRates = Dictionary(uniqueKeysWithValues: zip(groups.map(\.name), state.learningRates))
            state.learningRates = state.scheduler.step(metric: valMetrics.macroF1, learningRates: state.learningRates)
            let isBest = state.earlyStopping.record(metric: valMetrics.macroF1, epoch: epoch)
            let record = EpochRecord(
                epoch: epoch, train: trainMetrics, val: valMetrics, learningRates: usedRates,
                epochsWithoutImprovement: state.earlyStopping.epochsWithoutImprovement, isBest: isBest,
                seconds: Date().timeIntervalSince(epochStart))
            state.history.append(record)
            state.epochsCompleted = epoch
            state.random = random.savedState
            if state.earlyStopping.shouldStop {
                state.status = .earlyStopped
            } else if epoch == config.epochs {
                state.status = .completed
            }
            try appendMetrics(record)
            var written = ["last.h5"]
            if isBest {
                try Predictions.write(
                    logits: valLogits, labels: val.labels, classes: val.classes, epoch: epoch,
                    to: path("predictions.h5"))
                written += ["best.h5", "predictions.h5"]
                try Checkpoint.write(
                    Checkpoint.encode(
                        model: model, optimizer: nil, trainerStateJSON: nil, info: info(epoch, .full),
                        backboneBN: config.backboneBN), to: path("best.h5"))
                if config.stage.usesAdapters {
                    try Checkpoint.write(
                        Checkpoint.encode(
                            model: model, optimizer: nil, trainerStateJSON: nil, info: info(epoch, .slim),
                            backboneBN: config.backboneBN), to: path("best.slim.h5"))
                }
            }
            // The resume point: slim for adapter stages (the frozen backbone is the stage-1 checkpoint's).
            let lastKind: CheckpointInfo.Kind = config.stage.usesAdapters ? .slim : .full
            try Checkpoint.write(
                Checkpoint.encode(
                    model: model, optimizer: optimizer, trainerStateJSON: try RunJSON.encode(state),
                    info: info(epoch, lastKind), backboneBN: config.backboneBN),
                to: path("last.h5"))
            logger.info("\(Self.describe(record, total: config.epochs, patience: config.earlyStoppingPatience))")
            onEpoch?(
                EpochOutputs(
                    record: record, recordJSON: try RunJSON.encode(record), files: written,
                    finished: state.status != .running))
            epochsThisRun += 1
            if let stopAfterEpochs, epochsThisRun >= stopAfterEpochs, state.status == .running { break }
        }

        let counts = model.store.parameterCounts
        let bestRecord = state.history.first { $0.epoch == state.earlyStopping.bestEpoch }
        let summary = TrainingSummary(
            status: state.status, divergedAtEpoch: divergedAt, epochsRun: state.epochsCompleted,
            bestEpoch: state.earlyStopping.bestEpoch,
            best: bestRecord, last: state.history.last,
            parameters: .init(
                total: counts.total, trainable: counts.trainable,
                trainableShare: Double(counts.trainable) / Double(max(counts.total, 1))),
            classWeights: loss.classWeights, trainRows: train.count, valRows: val.count,
            seconds: Date().timeIntervalSince(start), config: config, datasetSHA256: datasetHash,
            stage1SHA256: stage1Hash,
            blasCore: BLAS.coreName, blasThreads: self.config.threads, gemmKernel: GEMMKernel.selected.rawValue)
        if state.status != .running {
            try AtomicFile.write(
                Array((try RunJSON.encode(summary, pretty: true) + "\n").utf8), to: path("summary.json"))
        }
        return summary
    }

    // MARK: - Epochs

    /// One pass over the epoch's sampled rows; nil when a batch's loss is not finite.
    private func trainEpoch(
        _ model: PartitionModel, _ optimizer: AdamW, _ loss: Loss, _ data: StageData, fromPrefix: Bool,
        random: inout PCG64, progress: ProgressThrottle
    ) throws -> ClassificationMetrics? {
        let order = data.epochOrder(config.sampler, random: &random)
        let mode = PartitionModel.Mode(
            backboneBN: config.stage.usesAdapters ? config.backboneBN.mode : .train, adapterBN: .train, dropout: true)
        // One cache for the epoch: each step's forward pass hands the previous step's buffers to the pool and takes
        // them back, so steps after the first allocate none.
        var cache = PartitionModel.Cache()
        let pool = BufferPool.current
        defer { cache.recycle() }
        var probabilities: [Float] = []
        var labels: [Int] = []
        probabilities.reserveCapacity(order.count * data.classes)
        labels.reserveCapacity(order.count)
        var y: [Int] = []
        var lossSum = 0.0
        var batches = 0
        var start = 0
        var halfway = false
        while start < order.count {
            let end = min(order.count, start + config.batchSize)
            progress.report(.train, done: start, total: order.count)
            defer { start = end }
            if !halfway, start >= order.count / 2 {
                halfway = true
                FaultPoint.shared.reach(.midEpoch)
            }
            // A final batch of one row cannot be batch-normalised in train mode (PyTorch raises): it is skipped.
            if end - start < 2 { continue }
            var x = data.batch(order[start..<end], labels: &y)
            model.store.zeroGradients()
            var logits = Self.forward(model, x, fromPrefix: fromPrefix, mode: mode, random: &random, cache: &cache)
            var (value, gradient) = loss.evaluate(logits: logits, labels: y)
            guard value.isFinite else { return nil }
            if isCancelled?() == true { throw TrainingError.cancelled }
            model.backward(gradient, cache: cache)
            optimizer.update(model.store)
            lossSum += value
            batches += 1
            Self.appendSoftmax(logits, to: &probabilities)
            labels += y
            pool.recycle(&gradient)
            pool.recycle(&logits)
            pool.recycle(&x)
        }
        return ClassificationMetrics(
            probabilities: probabilities, labels: labels, classes: data.classes, loss: lossSum / Double(max(batches, 1))
        )
    }

    /// Validation in eval mode (the loss is the mean over rows), and the logits of every row.
    func evaluate(_ model: PartitionModel, _ loss: Loss, _ data: StageData, fromPrefix: Bool) -> (
        ClassificationMetrics, [Float]
    ) {
        let (probabilities, logits, lossSum) = Self.predict(
            model, data, loss: loss, fromPrefix: fromPrefix, threads: config.threads)
        let metrics = ClassificationMetrics(
            probabilities: probabilities, labels: data.labels, classes: data.classes,
            loss: lossSum / Double(max(data.count, 1)))
        return (metrics, logits)
    }

    /// Logits from blocks, or from cached prefix outputs when `fromPrefix`.
    static func forward(
        _ model: PartitionModel, _ x: Tensor, fromPrefix: Bool, mode: PartitionModel.Mode, random: inout PCG64,
        cache: inout PartitionModel.Cache
    ) -> Tensor {
        if fromPrefix, let logits = model.forward(prefixOutput: x, mode: mode, random: &random, cache: &cache) {
            return logits
        }
        return model.forward(x, mode: mode, random: &random, cache: &cache)
    }

    /// Eval-mode probabilities and logits of every row (batches of 256, spread over `threads` threads with
    /// `ParallelBatches`; the results do not depend on the thread count), and the summed loss when `loss` is given.
    public static func predict(
        _ model: PartitionModel, _ data: StageData, loss: Loss? = nil, fromPrefix: Bool = false, threads: Int = 1
    ) -> (probabilities: [Float], logits: [Float], lossSum: Double) {
        let batchRows = 256
        let shared = ParallelBatches.Shared(model)
        let outputs = ParallelBatches.map(count: (data.count + batchRows - 1) / batchRows, threads: threads) { batch in
            let start = batch * batchRows
            let end = min(data.count, start + batchRows)
            var (x, y) = data.batch(ArraySlice(start..<end))
            var cache = PartitionModel.Cache()
            var unused = PCG64(seed: 0)
            let logits = forward(
                shared.value, x, fromPrefix: fromPrefix, mode: .evaluation, random: &unused, cache: &cache)
            var batchLoss = 0.0
            if let loss {
                var (value, gradient) = loss.evaluate(logits: logits, labels: y)
                batchLoss = value * Double(end - start)
                BufferPool.current.recycle(&gradient)
            }
            // The batch's buffers go back to this thread's pool for its next batch.
            cache.recycle()
            BufferPool.current.recycle(&x)
            var probabilities: [Float] = []
            appendSoftmax(logits, to: &probabilities)
            return (probabilities, logits.data, batchLoss)
        }
        var probabilities: [Float] = []
        var logits: [Float] = []
        var lossSum = 0.0
        probabilities.reserveCapacity(data.count * data.classes)
        logits.reserveCapacity(data.count * data.classes)
        for output in outputs {
            probabilities += output.0
            logits += output.1
            lossSum += output.2
        }
        return (probabilities, logits, lossSum)
    }

    /// Appends each row's softmax probabilities of `logits` `[N, K]` to `out`.
    static func appendSoftmax(_ logits: Tensor, to out: inout [Float]) {
        let k = logits.shape[1]
        for row in 0..<logits.shape[0] {
            var maxLogit = -Double.infinity
            for j in 0..<k { maxLogit = max(maxLogit, Double(logits.data[row * k + j])) }
            var sum = 0.0
            for j in 0..<k { sum += Foundation.exp(Double(logits.data[row * k + j]) - maxLogit) }
            for j in 0..<k { out.append(Float(Foundation.exp(Double(logits.data[row * k + j]) - maxLogit) / sum)) }
        }
    }

    // MARK: - Resume and files

    private func restore(
        _ path: String, model: PartitionModel, optimizer: AdamW, datasetHash: String, stage1Hash: String
    ) throws -> TrainerState {
        let contents = try Checkpoint.read(path)
        // The BLAS thread count may differ between the attempts of a cell (another worker); every other setting may not.
        var saved = try contents.config()
        saved.threads = config.threads
        guard saved == config else {
            throw TrainingError.badCheckpoint(
                path: path, detail: "was written by a run with different settings; resume needs the same config")
        }
        guard contents.info.datasetHash == datasetHash else {
            throw TrainingError.badCheckpoint(
                path: path,
                detail: "was trained on another dataset (content hash \(contents.info.datasetHash.prefix(12))…)")
        }
        guard let json = contents.trainerStateJSON else {
            throw TrainingError.badCheckpoint(path: path, detail: "holds no trainer state (resume needs a last.h5)")
        }
        if contents.info.kind == .slim {
            guard contents.info.stage1Hash == stage1Hash else {
                throw TrainingError.badCheckpoint(
                    path: path,
                    detail: "builds on another stage-1 checkpoint (hash \(contents.info.stage1Hash.prefix(12))…)")
            }
            try Checkpoint.loadSlim(contents, into: model)
        } else {
            try Checkpoint.load(contents, into: model)
        }
        try Checkpoint.load(contents, into: optimizer, store: model.store)
        return try RunJSON.decode(TrainerState.self, from: json)
    }

    private func path(_ name: String) -> String { "\(outputDirectory)/\(name)" }

    private func rewriteMetricsLog(_ history: [EpochRecord]) throws {
        let lines = try history.map { try RunJSON.encode($0) + "\n" }.joined()
        try AtomicFile.write(Array(lines.utf8), to: path("metrics.jsonl"))
    }

    private func appendMetrics(_ record: EpochRecord) throws {
        let line = try RunJSON.encode(record) + "\n"
        guard let handle = FileHandle(forWritingAtPath: path("metrics.jsonl")) else {
            throw TrainingError.badData("\(path("metrics.jsonl")): cannot open for appending")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.synchronize()
    }

    /// SHA-256 of a file's bytes, lower-case hex (the provenance hash of a stage-1 checkpoint).
    public static func sha256(ofFile path: String) throws -> String {
        do { return try SHA256Hex.ofFile(path) } catch {
            throw TrainingError.badCheckpoint(path: path, detail: "cannot read")
        }
    }

    static func describe(_ r: EpochRecord, total: Int, patience: Int) -> String {
        let rates = r.learningRates.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2g", $0.value))" }
            .joined(separator: " ")
        let trainPart = String(format: "train loss %.4f F1 %.2f%%", r.train.loss, 100 * r.train.macroF1)
        let valPart = String(format: "val loss %.4f F1 %.2f%%", r.val.loss, 100 * r.val.macroF1)
        let time = String(format: "%.1fs", r.seconds)
        return
            "epoch \(r.epoch)/\(total)  \(trainPart)  \(valPart)  lr \(rates)  patience \(r.epochsWithoutImprovement)/\(patience)\(r.isBest ? "  best" : "")  \(time)"
    }
}
