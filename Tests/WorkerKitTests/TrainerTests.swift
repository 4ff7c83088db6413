// TrainerTests: small real training runs — outputs, best/last bookkeeping, BN freezing, determinism, resume, bad input.
import AblateSupport
import DatasetKit
import Foundation
import HDF5Kit
import Logging
import NN
import RunSpec
import TestSupport
import Testing

@testable import WorkerKit

/// A synthetic dataset and a Stage-1 checkpoint trained on it, shared by the tests (built once).
final class TrainingFixture: @unchecked Sendable {
    static let shared = TrainingFixture()
    let dir = TemporaryDirectory("ablate-train")
    let datasetPath: String
    let stage1Directory: String
    let stage1Summary: TrainingSummary?

    init() {
        datasetPath = dir.file("data.h5")
        stage1Directory = dir.file("stage1")
        let dataset = SyntheticGenerator().dataset(train: 700, val: 240, seed: 5)
        _ = try? DatasetWriter.write(dataset, to: datasetPath, overwrite: true)
        stage1Summary = try? Trainer(
            config: Self.stage1Config(), datasetPath: datasetPath, stage1CheckpointPath: nil,
            outputDirectory: stage1Directory, logger: CapturedLog().logger("trainer")
        ).run()
    }

    static func stage1Config() -> TrainingConfig {
        var config = TrainingConfig(stage: .stage1)
        config.width = 16
        config.epochs = 2
        config.batchSize = 64
        config.maxTrainRows = 320
        config.maxValRows = 160
        return config
    }

    static func stage2Config() -> TrainingConfig {
        var config = TrainingConfig(stage: .stage2)
        config.width = 16
        config.epochs = 3
        config.batchSize = 32
        config.lrHead = 1e-3
        return config
    }

    var stage1Checkpoint: String { "\(stage1Directory)/best.h5" }

    func stage2(
        _ config: TrainingConfig = stage2Config(), into name: String, stopAfter: Int? = nil, resume: String? = nil,
        prefixCache: Bool = true, cacheName: String = "cache", log: CapturedLog = CapturedLog()
    ) throws -> (TrainingSummary, String) {
        let output = dir.file(name)
        let trainer = Trainer(
            config: config, datasetPath: datasetPath, stage1CheckpointPath: stage1Checkpoint, outputDirectory: output,
            logger: log.logger("trainer"))
        trainer.stopAfterEpochs = stopAfter
        trainer.usePrefixCache = prefixCache
        trainer.cacheDirectory = dir.file(cacheName)
        return (try trainer.run(resume: resume), output)
    }
}

func readRecords(_ directory: String) throws -> [EpochRecord] {
    let text = try String(contentsOfFile: "\(directory)/metrics.jsonl", encoding: .utf8)
    return try text.split(separator: "\n").map { try RunJSON.decode(EpochRecord.self, from: String($0)) }
}

@Suite("Trainer", .serialized)
struct TrainerTests {
    let fixture = TrainingFixture.shared

    @Test func stage1WritesEveryOutput() throws {
        let summary = try #require(fixture.stage1Summary)
        #expect(summary.status == .completed)
        #expect(summary.epochsRun == 2)
        let records = try readRecords(fixture.stage1Directory)
        #expect(records.map(\.epoch) == [1, 2])
        for name in ["best.h5", "last.h5", "summary.json", "metrics.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: "\(fixture.stage1Directory)/\(name)"), "\(name)")
        }
        // Best-epoch metrics all come from the best epoch's record; last-epoch from the last.
        let best = try #require(summary.best)
        #expect(best == records.first { $0.epoch == summary.bestEpoch })
        #expect(summary.last == records.last)
        #expect(best.val.macroF1 == records.map(\.val.macroF1).max())
        #expect(summary.parameters.trainable == summary.parameters.total)
        #expect(summary.config.lrBackbone == 1e-4 && summary.config.lrHead == 1e-3)
        let checkpoint = try Checkpoint.read("\(fixture.stage1Directory)/last.h5")
        #expect(checkpoint.info.blasCore == BLAS.coreName)
        #expect(checkpoint.info.blasThreads == 1)
        #expect(checkpoint.info.epoch == 2)
        #expect(checkpoint.counters["backbone.bn1.num_batches_tracked"] == 10, "5 batches × 2 epochs")
    }

    /// Stage 2 with `backbone_bn: eval`: the backbone's running statistics stay bitwise those of the stage-1 checkpoint;
    /// with `train` they move. The slim checkpoint holds no frozen tensor.
    @Test(arguments: [TrainingConfig.BatchNormSetting.eval, .train])
    func stage2BackboneStatistics(setting: TrainingConfig.BatchNormSetting) throws {
        var config = TrainingFixture.stage2Config()
        config.backboneBN = setting
        config.epochs = 1
        let (summary, output) = try fixture.stage2(config, into: "bn-\(setting.rawValue)")
        #expect(summary.status == .completed)
        #expect(summary.stage1SHA256 == (try Trainer.sha256(ofFile: fixture.stage1Checkpoint)))
        let stage1 = try Checkpoint.read(fixture.stage1Checkpoint)
        let trained = try Checkpoint.read("\(output)/best.h5")
        let statistics = stage1.tensors.keys.filter { $0.hasSuffix("running_mean") || $0.hasSuffix("running_var") }
        #expect(statistics.count == 40)
        let unchanged = statistics.filter { trained.tensors[$0]?.values == stage1.tensors[$0]?.values }
        if setting == .eval {
            #expect(unchanged.count == statistics.count)
            #expect(
                trained.counters["backbone.bn1.num_batches_tracked"]
                    == stage1.counters["backbone.bn1.num_batches_tracked"])
        } else {
            #expect(unchanged.isEmpty)
        }
        let weightsUnchanged = stage1.tensors.keys.filter { $0.hasPrefix("backbone.") && $0.hasSuffix("weight") }
            .allSatisfy { trained.tensors[$0]?.values == stage1.tensors[$0]?.values }
        #expect(weightsUnchanged, "frozen backbone weights never change")
        let last = try Checkpoint.read("\(output)/last.h5")
        #expect(last.info.kind == .slim, "the resume point of an adapter stage is slim")
        #expect(last.trainerStateJSON != nil && !last.firstMoment.isEmpty)
        let slim = try Checkpoint.read("\(output)/best.slim.h5")
        #expect(slim.info.kind == .slim)
        #expect(slim.info.stage1Hash == summary.stage1SHA256)
        #expect(slim.tensors.keys.allSatisfy { !$0.hasPrefix("backbone.") || setting == .train })
        #expect(slim.tensors.keys.contains("adapters.layer3.alpha"))
        #expect(slim.tensors.keys.contains("head.head.6.weight"))
    }

    /// Same inputs → bitwise the same weights and metrics.
    @Test func deterministic() throws {
        var config = TrainingFixture.stage2Config()
        config.epochs = 2
        let (_, a) = try fixture.stage2(config, into: "det-a")
        let (_, b) = try fixture.stage2(config, into: "det-b")
        let first = try Checkpoint.read("\(a)/last.h5")
        let second = try Checkpoint.read("\(b)/last.h5")
        #expect(first.tensors.keys.sorted() == second.tensors.keys.sorted())
        #expect(first.tensors.allSatisfy { second.tensors[$0.key]?.values == $0.value.values })
        #expect(try readRecords(a).map(\.deterministicPart) == readRecords(b).map(\.deterministicPart))
    }

    /// Stopped after epoch 1 and resumed from last.h5: the end state equals the uninterrupted run's, bit for bit.
    @Test func resumeIsBitwiseIdentical() throws {
        let (straight, whole) = try fixture.stage2(into: "resume-whole")
        let (partial, split) = try fixture.stage2(into: "resume-split", stopAfter: 1)
        #expect(partial.status == .running)
        #expect(try readRecords(split).count == 1)
        let (resumed, _) = try fixture.stage2(into: "resume-split", resume: "\(split)/last.h5")
        #expect(resumed.status == straight.status)
        let a = try Checkpoint.read("\(whole)/last.h5")
        let b = try Checkpoint.read("\(split)/last.h5")
        #expect(a.info.epoch == 3 && b.info.epoch == 3)
        #expect(a.tensors.allSatisfy { b.tensors[$0.key]?.values == $0.value.values }, "weights")
        #expect(a.firstMoment.allSatisfy { b.firstMoment[$0.key] == $0.value }, "optimizer moments")
        #expect(a.counters == b.counters)
        #expect(try readRecords(whole).map(\.deterministicPart) == readRecords(split).map(\.deterministicPart))
        #expect(straight.best?.deterministicPart == resumed.best?.deterministicPart)
    }

    @Test func divergenceStopsWithStatus() throws {
        var config = TrainingFixture.stage2Config()
        config.lrHead = 1e30
        config.lrAdapter = 1e30
        let (summary, output) = try fixture.stage2(config, into: "diverged")
        #expect(summary.status == .diverged)
        #expect(summary.divergedAtEpoch == 1 || summary.divergedAtEpoch == 2)
        let written = try String(contentsOfFile: "\(output)/summary.json", encoding: .utf8)
        #expect(written.contains("\"status\" : \"diverged\""))
    }

    @Test func badInputs() throws {
        // A stage-1 checkpoint of another width: missing/mismatched tensors, named.
        var wide = TrainingFixture.stage2Config()
        wide.width = 32
        let mismatch = try #require(throws: TrainingError.self) { try fixture.stage2(wide, into: "bad-width") }
        #expect("\(mismatch)".contains("shape mismatch"))
        #expect("\(mismatch)".contains(fixture.stage1Checkpoint))
        // A stage-2 checkpoint is not a stage-1 checkpoint.
        let (_, output) = try fixture.stage2(
            {
                var c = TrainingFixture.stage2Config(); c.epochs = 1; return c
            }(), into: "as-stage1")
        let trainer = Trainer(
            config: TrainingFixture.stage2Config(), datasetPath: fixture.datasetPath,
            stage1CheckpointPath: "\(output)/best.h5", outputDirectory: fixture.dir.file("x"),
            logger: CapturedLog().logger("trainer"))
        #expect(throws: TrainingError.self) { try trainer.run() }
        // A stage-1 checkpoint that lacks tensors.
        let stripped = fixture.dir.file("stripped.h5")
        do {
            let file = try H5File.create(stripped, mode: .truncate)
            for name in ["format", "kind", "config", "dataset_sha256", "stage1_sha256", "code_version", "blas_core"] {
                let source = try H5File.open(fixture.stage1Checkpoint)
                if case .string(let v)? = try source.attribute(name) { try file.setAttribute(name, v) }
            }
            for name in ["format_version", "seed", "epoch", "blas_threads"] { try file.setAttribute(name, 1) }
            try file.createGroup("model").writeDataset(
                "backbone.conv1.weight", [Float](repeating: 0, count: 16 * 49), shape: [16, 1, 7, 7])
            try file.close()
        }
        let missing = try #require(throws: TrainingError.self) {
            try Trainer(
                config: TrainingFixture.stage2Config(), datasetPath: fixture.datasetPath,
                stage1CheckpointPath: stripped, outputDirectory: fixture.dir.file("y"),
                logger: CapturedLog().logger("trainer")
            ).run()
        }
        #expect("\(missing)".contains("tensors missing"))
        // A dataset with no rows for the stage.
        let empty = fixture.dir.file("none-only.h5")
        var dataset = SyntheticGenerator().dataset(train: 50, val: 20, seed: 1)
        dataset.train.labels = dataset.train.labels.map { _ in 0 }
        try DatasetWriter.write(dataset, to: empty, overwrite: true)
        let noRows = try #require(throws: TrainingError.self) {
            try Trainer(
                config: TrainingFixture.stage2Config(), datasetPath: empty,
                stage1CheckpointPath: fixture.stage1Checkpoint, outputDirectory: fixture.dir.file("z"),
                logger: CapturedLog().logger("trainer")
            ).run()
        }
        #expect("\(noRows)".contains("no rows for stage 2"))
        // Foreign and truncated checkpoint files.
        fixture.dir.write("foreign.h5", text: "not a checkpoint")
        #expect(throws: TrainingError.self) { try Checkpoint.read(fixture.dir.file("foreign.h5")) }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.stage1Checkpoint)))
        fixture.dir.write("cut.h5", bytes: Array(bytes.prefix(bytes.count / 2)))
        #expect(throws: TrainingError.self) { try Checkpoint.read(fixture.dir.file("cut.h5")) }
        // Resuming with other settings is refused.
        var other = TrainingFixture.stage2Config()
        other.lrHead = 5e-4
        let refused = try #require(throws: TrainingError.self) {
            try fixture.stage2(other, into: "resume-other", resume: "\(fixture.stage1Directory)/last.h5")
        }
        #expect("\(refused)".contains("different settings"))
    }

    /// Stage 3-RECT (2-way) and 3-AB (4-way) adapter models train on their own rows with their heads.
    @Test(arguments: [Stage.stage3Rect, .stage3AB])
    func stage3Models(stage: Stage) throws {
        var config = TrainingConfig(stage: stage)
        config.width = 16
        config.epochs = 1
        config.batchSize = 16
        let (summary, output) = try fixture.stage2(config, into: "stage-\(stage.rawValue)")
        #expect(summary.status == .completed)
        let record = try #require(summary.best)
        #expect(record.val.confusion.count == stage.head.classes)
        #expect(record.val.support.reduce(0, +) == summary.valRows)
        let checkpoint = try Checkpoint.read("\(output)/best.h5")
        let last = stage.head.hidden.count * 3
        #expect(
            checkpoint.tensors["head.head.\(last).weight"]?.shape == [stage.head.classes, stage.head.hidden.last ?? 0])
    }

    /// The frozen-prefix cache changes nothing: the same run with and without it ends with bitwise the same weights,
    /// optimizer state and per-epoch metrics. A second run reuses the file; a corrupted file is rebuilt.
    @Test func prefixCacheIsExact() throws {
        var config = TrainingFixture.stage2Config()
        config.epochs = 2
        config.seed = 99
        let (_, plain) = try fixture.stage2(config, into: "cache-off", prefixCache: false)
        let first = CapturedLog()
        let (_, cached) = try fixture.stage2(config, into: "cache-on", cacheName: "cache-exact", log: first)
        #expect(first.messages.contains { $0.hasPrefix("frozen-prefix cache: built") }, "\(first.messages)")
        let a = try Checkpoint.read("\(plain)/last.h5")
        let b = try Checkpoint.read("\(cached)/last.h5")
        #expect(a.tensors.allSatisfy { b.tensors[$0.key]?.values == $0.value.values }, "weights")
        #expect(a.secondMoment.allSatisfy { b.secondMoment[$0.key] == $0.value }, "optimizer moments")
        #expect(try readRecords(plain).map(\.deterministicPart) == readRecords(cached).map(\.deterministicPart))

        let second = CapturedLog()
        _ = try fixture.stage2(config, into: "cache-again", cacheName: "cache-exact", log: second)
        #expect(second.messages.contains { $0.hasPrefix("frozen-prefix cache: using") }, "\(second.messages)")

        // Corrupt one feature value in place: the checksum catches it and the cache is rebuilt, never used.
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.file("cache-exact")).filter {
            $0.hasSuffix(".h5")
        }
        #expect(files.count == 1)
        let path = fixture.dir.file("cache-exact/\(try #require(files.first))")
        do {
            let file = try H5File.open(path, writable: true)
            let train = try file.dataset("train")
            var values: [Float] = try train.read(rows: 0..<1)
            values[0] += 1
            try train.write(values, rowsFrom: 0)
            try file.close()
        }
        let third = CapturedLog()
        let (_, rebuilt) = try fixture.stage2(config, into: "cache-rebuilt", cacheName: "cache-exact", log: third)
        #expect(
            third.records.contains { $0.level == .warning && $0.message.contains("stale or corrupt") },
            "\(third.records)")
        let c = try Checkpoint.read("\(rebuilt)/last.h5")
        #expect(a.tensors.allSatisfy { c.tensors[$0.key]?.values == $0.value.values }, "weights after a rebuild")
    }

    /// Results do not depend on `threads`: the research-width Stage-2 model (its GEMMs large enough to be split)
    /// built its prefix cache, trained from it and validated at 1 and at 2 threads, ending with bitwise the same
    /// weights, optimizer moments and per-epoch metrics.
    @Test func threadsDoNotChangeResults() throws {
        var stage1 = TrainingFixture.stage1Config()
        stage1.width = 64
        stage1.epochs = 1
        stage1.maxTrainRows = 128
        stage1.maxValRows = 64
        let stage1Directory = fixture.dir.file("stage1-width64")
        _ = try Trainer(
            config: stage1, datasetPath: fixture.datasetPath, stage1CheckpointPath: nil,
            outputDirectory: stage1Directory, logger: CapturedLog().logger("trainer")
        ).run()
        var outputs: [String] = []
        for threads in [1, 2] {
            var config = TrainingFixture.stage2Config()
            config.width = 64
            config.batchSize = 128
            config.epochs = 2
            config.threads = threads
            let output = fixture.dir.file("threads-\(threads)")
            let trainer = Trainer(
                config: config, datasetPath: fixture.datasetPath, stage1CheckpointPath: "\(stage1Directory)/best.h5",
                outputDirectory: output, logger: CapturedLog().logger("trainer"))
            trainer.cacheDirectory = fixture.dir.file("cache-threads-\(threads)")
            _ = try trainer.run()
            outputs.append(output)
        }
        BLAS.setThreadCount(1)
        let a = try Checkpoint.read("\(outputs[0])/last.h5")
        let b = try Checkpoint.read("\(outputs[1])/last.h5")
        #expect(
            a.tensors.allSatisfy { b.tensors[$0.key]?.values == $0.value.values },
            "weights differ between 1 and 2 threads")
        #expect(
            a.secondMoment.allSatisfy { b.secondMoment[$0.key] == $0.value },
            "optimizer moments differ between 1 and 2 threads")
        #expect(
            try readRecords(outputs[0]).map(\.deterministicPart) == readRecords(outputs[1]).map(\.deterministicPart))
        #expect(b.info.blasThreads == 2)
    }

    /// Results do not depend on the GEMM kernel path: a cached Stage-2 run (prefix cache built and trained from,
    /// 2 threads) and an uncached Stage-1 epoch end with bitwise the same weights, optimizer moments and per-epoch
    /// metrics on every supported path, and the checkpoint and summary record the path.
    @Test func kernelPathsDoNotChangeResults() throws {
        let before = GEMMKernel.selected
        defer {
            GEMMKernel.select(before)
            BLAS.setThreadCount(1)
        }
        for stage in [Stage.stage2, .stage1] {
            var outputs: [(GEMMKernel, String)] = []
            for path in GEMMKernel.supported {
                #expect(GEMMKernel.select(path))
                var config = stage == .stage2 ? TrainingFixture.stage2Config() : TrainingFixture.stage1Config()
                config.epochs = stage == .stage2 ? 2 : 1
                config.threads = 2
                let output = fixture.dir.file("kernel-\(stage.rawValue)-\(path)")
                let trainer = Trainer(
                    config: config, datasetPath: fixture.datasetPath,
                    stage1CheckpointPath: stage == .stage2 ? fixture.stage1Checkpoint : nil, outputDirectory: output,
                    logger: CapturedLog().logger("trainer"))
                trainer.cacheDirectory = fixture.dir.file("cache-kernel-\(path)")
                let summary = try trainer.run()
                #expect(summary.gemmKernel == path.rawValue)
                outputs.append((path, output))
            }
            let first = try Checkpoint.read("\(outputs[0].1)/last.h5")
            #expect(first.info.gemmKernel == outputs[0].0.rawValue)
            for (path, output) in outputs.dropFirst() {
                let other = try Checkpoint.read("\(output)/last.h5")
                #expect(
                    first.tensors.allSatisfy { other.tensors[$0.key]?.values == $0.value.values },
                    "\(stage): weights differ between \(outputs[0].0) and \(path)")
                #expect(
                    first.secondMoment.allSatisfy { other.secondMoment[$0.key] == $0.value },
                    "\(stage): optimizer moments differ between \(outputs[0].0) and \(path)")
                #expect(
                    try readRecords(outputs[0].1).map(\.deterministicPart)
                        == readRecords(output).map(\.deterministicPart),
                    "\(stage): epoch records differ between \(outputs[0].0) and \(path)")
                #expect(other.info.gemmKernel == path.rawValue)
            }
        }
    }

    /// With `backbone_bn: train` the prefix is not fixed: the trainer falls back by itself and says why.
    @Test func prefixCacheFallsBack() throws {
        var config = TrainingFixture.stage2Config()
        config.epochs = 1
        config.backboneBN = .train
        let lines = CapturedLog()
        _ = try fixture.stage2(config, into: "cache-fallback", log: lines)
        #expect(lines.messages.contains { $0.contains("not used (backbone_bn: train") }, "\(lines.messages)")
    }
}
