// JobRunner: one cell's training on its own thread, reporting epochs and the outcome to the network loop's inbox.
import AblateSupport
import Foundation
import Logging
import RunSpec
import Synchronization
import TransferKit
import WireProtocol

/// Starts the training thread of one job (BLAS and HDF5 never run on the cooperative pool).
public enum JobRunner {
    /// `logger` (label `trainer`) gets the run's lines, each with the cell as metadata (`cell=VARIANT/seed-SEED`).
    public static func start(
        _ spec: JobSpec, inbox: WorkerInbox, cancel: CancelFlag, logger: Logger = Logger(label: "trainer")
    ) {
        let thread = Thread {
            run(spec, inbox: inbox, cancel: cancel, logger: logger)
        }
        thread.name = "ablate-train-\(spec.assign.cell.prefix(8))"
        thread.stackSize = 16 << 20
        thread.start()
    }

    static func run(_ spec: JobSpec, inbox: WorkerInbox, cancel: CancelFlag, logger: Logger) {
        let cell = spec.assign.cell
        let attempt = spec.assign.attempt
        var logger = logger
        logger[metadataKey: "cell"] = "\(spec.assign.variant)/seed-\(spec.assign.seed)"
        let trainer = Trainer(
            config: spec.config, datasetPath: spec.datasetPath, stage1CheckpointPath: spec.stage1Path,
            outputDirectory: spec.runDirectory, logger: logger)
        trainer.codeVersion = spec.codeVersion
        trainer.cacheDirectory = spec.cacheDirectory
        trainer.isCancelled = { cancel.isSet }
        trainer.onProgress = { progress in inbox.post(.progress(cell: cell, attempt: attempt, progress)) }
        let cadence = Mutex(CheckpointCadence(interval: spec.checkpointInterval))
        /// The run directory's files `names`, snapshotted into the outbox as `epoch`'s.
        @Sendable func snapshots(_ names: [String], epoch: Int) throws -> [OutgoingFile] {
            try names.map {
                try snapshot("\(spec.runDirectory)/\($0)", name: $0, epoch: epoch, outbox: spec.outboxDirectory)
            }
        }
        trainer.onEpoch = { outputs in
            do {
                let names = cadence.withLock {
                    $0.filesToSend(
                        after: outputs.record.epoch, wrote: outputs.files, finished: outputs.finished,
                        now: ProcessInfo.processInfo.systemUptime)
                }
                let files = try snapshots(names, epoch: outputs.record.epoch)
                let record = outputs.record
                let report = MetricsReport(
                    cell: cell, attempt: attempt, seq: record.epoch, epoch: record.epoch,
                    valMacroF1: record.val.macroF1,
                    valLoss: record.val.loss, trainLoss: record.train.loss, seconds: record.seconds,
                    record: outputs.recordJSON)
                inbox.post(.epoch(cell: cell, attempt: attempt, report: report, files: files))
            } catch {
                logger.error("cannot snapshot epoch \(outputs.record.epoch)'s files: \(error)")
            }
        }
        do {
            let summary = try trainer.run(resume: spec.resumePath)
            if summary.status == .diverged {
                inbox.post(
                    .failed(
                        cell: cell, attempt: attempt,
                        reason: "diverged at epoch \(summary.divergedAtEpoch ?? 0) (non-finite loss)",
                        deterministic: true))
            } else {
                inbox.post(.finished(cell: cell, attempt: attempt, summary: try RunJSON.encode(summary)))
            }
        } catch TrainingError.cancelled {
            // The last completed epoch's files, if they had not gone yet, are its resume point.
            let (names, epoch) = cadence.withLock { $0.flush() }
            do {
                let files = try snapshots(names, epoch: epoch)
                if !files.isEmpty { inbox.post(.files(cell: cell, attempt: attempt, files: files)) }
            } catch {
                logger.error("cannot snapshot epoch \(epoch)'s files: \(error)")
            }
            inbox.post(.cancelled(cell: cell, attempt: attempt))
        } catch TrainingError.badConfig(let detail) {
            inbox.post(
                .failed(
                    cell: cell, attempt: attempt, reason: "invalid training settings: \(detail)", deterministic: true))
        } catch {
            inbox.post(.failed(cell: cell, attempt: attempt, reason: "\(error)", deterministic: false))
        }
    }

    /// Hashes a file and hard-links it into the outbox under its SHA-256 (the trainer replaces files by rename, so
    /// the link keeps this epoch's bytes).
    static func snapshot(_ path: String, name: String, epoch: Int, outbox: String) throws -> OutgoingFile {
        let ref = try ArtifactRef.ofFile(path, name: name)
        let sha = ref.sha256
        let target = "\(outbox)/\(sha)"
        if !FileManager.default.fileExists(atPath: target), link(path, target) != 0, errno != EEXIST {
            throw TrainingError.badData("\(target): cannot link \(path) (errno \(errno))")
        }
        return OutgoingFile(ref: ref, epoch: epoch, path: target)
    }
}
