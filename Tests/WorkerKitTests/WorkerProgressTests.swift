// WorkerProgressTests: a run's progress inside an epoch reaches the heartbeats, and the epoch's report clears it;
// the trainer reports the cache build, each epoch's training and its validation.
import DatasetKit
import Foundation
import NN
import RunSpec
import Synchronization
import TestSupport
import WireProtocol
import XCTest

@testable import WorkerKit

extension WorkerCoreTests {
    func testProgressInsideAnEpochGoesOutWithTheNextHeartbeat() throws {
        var core = core()
        connect(&core)
        assign(&core, try assignment("a", attempt: 1))
        let within = TrainingProgress(phase: .train, rowsDone: 256, rowsTotal: 1000, rowsPerSecond: 500)
        XCTAssertEqual(core.handle(.progress(cell: id("a"), attempt: 1, within), now: 2), [], "sent with heartbeats")
        XCTAssertEqual(
            core.handle(.progress(cell: id("a"), attempt: 7, within), now: 2), [], "another attempt's is dropped")
        let heartbeat = messages(core.tick(now: 3)).compactMap { if case .heartbeat(let h) = $0 { h } else { nil } }
        XCTAssertEqual(
            heartbeat.first?.progress,
            [
                JobProgress(
                    cell: id("a"), attempt: 1, epoch: 0, phase: .train, rowsDone: 256, rowsTotal: 1000,
                    rowsPerSecond: 500)
            ])
        _ = core.handle(.epoch(cell: id("a"), attempt: 1, report: report("a", epoch: 1), files: []), now: 4)
        let after = messages(core.tick(now: 5)).compactMap { if case .heartbeat(let h) = $0 { h } else { nil } }
        XCTAssertEqual(after.first?.progress, [JobProgress(cell: id("a"), attempt: 1, epoch: 1)])
    }
}

final class TrainerProgressTests: XCTestCase {
    func testTheTrainerReportsTheCacheBuildTrainingAndValidation() throws {
        let directory = TemporaryDirectory()
        let dataset = SyntheticGenerator(blockSize: 16).dataset(train: 600, val: 200, seed: 3)
        _ = try DatasetWriter.write(dataset, to: directory.file("d.h5"), overwrite: true)
        var stage1 = TrainingConfig(stage: .stage1)
        stage1.width = 16
        stage1.epochs = 1
        let first = Trainer(
            config: stage1, datasetPath: directory.file("d.h5"), stage1CheckpointPath: nil,
            outputDirectory: directory.file("s1"))
        try first.run()
        var config = TrainingConfig(stage: .stage2)
        config.width = 16
        config.epochs = 2
        config.batchSize = 64
        let trainer = Trainer(
            config: config, datasetPath: directory.file("d.h5"), stage1CheckpointPath: directory.file("s1/best.h5"),
            outputDirectory: directory.file("s2"))
        trainer.cacheDirectory = directory.file("cache")
        let seen = Mutex<[TrainingProgress]>([])
        trainer.onProgress = { progress in seen.withLock { $0.append(progress) } }
        try trainer.run()
        let phases = seen.withLock { $0 }
        XCTAssertEqual(phases.first?.phase, .cache, "\(phases)")
        XCTAssertGreaterThan(phases.first?.rowsTotal ?? 0, 0, "train + val rows of the stage")
        XCTAssertEqual(phases.filter { $0.phase == .validate }.count, 2, "one validation per epoch")
        let training = phases.filter { $0.phase == .train }
        XCTAssertGreaterThanOrEqual(training.count, 2, "each epoch's training starts with a report")
        for progress in phases { XCTAssertLessThanOrEqual(progress.rowsDone, progress.rowsTotal) }
        XCTAssertEqual(training.first?.rowsDone, 0)
    }
}
