// PredictCommand: `ablate predict`, logits of a checkpoint on a split, written as HDF5.
import AblateSupport
import ArgumentParser
import DatasetKit
import Foundation
import HDF5Kit
import NN
import RunSpec
import WorkerKit

/// Writes `logits` float32 `[N, K]`, `labels` int64 `[N]` (stage labels) and `rows` int64 `[N]` (dataset rows used).
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Compute a checkpoint's logits on a dataset split.")

    @Option(help: "Checkpoint (.h5) written by ablate train.") var checkpoint: String
    @Option(help: "Dataset file (.h5).") var data: String
    @Option(help: "Split: train or val.") var split: String = "val"
    @Option(name: [.short, .long], help: "Output file (.h5).") var out: String
    @Option(name: .customLong("stage1-checkpoint"), help: "Stage-1 checkpoint, for slim checkpoints.")
    var stage1Checkpoint: String?
    @Flag(help: "Replace an existing output file.") var force = false

    func run() throws {
        guard DatasetFormat.splits.contains(split) else {
            throw ValidationError("--split \(split): expected train or val")
        }
        if !force, FileManager.default.fileExists(atPath: out) {
            throw RunFailure(message: "\(out): already exists (use --force to overwrite)")
        }
        let contents = try Checkpoint.read(checkpoint)
        let config = try contents.config()
        let model = PartitionModel(config.model, seed: config.seed)
        if contents.info.kind == .slim {
            guard let stage1Checkpoint else {
                throw RunFailure(message: "\(checkpoint): a slim checkpoint needs --stage1-checkpoint (its backbone)")
            }
            let stage1Hash = try Trainer.sha256(ofFile: stage1Checkpoint)
            guard stage1Hash == contents.info.stage1Hash else {
                throw RunFailure(
                    message:
                        "\(stage1Checkpoint): is not the stage-1 checkpoint \(checkpoint) was trained on (hash differs)"
                )
            }
            try Checkpoint.load(Checkpoint.read(stage1Checkpoint), into: model, prefix: "backbone.")
            try Checkpoint.loadSlim(contents, into: model)
        } else {
            try Checkpoint.load(contents, into: model)
        }
        BLAS.setThreadCount(config.threads)
        let dataset = try DatasetFile(path: data)
        let datasetHash = try dataset.verifiedContentHash()
        let stageData = try StageData.load(dataset, split: split, stage: config.stage)
        let (_, logits, _) = Trainer.predict(model, stageData, threads: config.threads)
        let classes = config.stage.head.classes
        try OutputFile.write(to: out) {
            try writePredictions(logits: logits, stageData: stageData, config: config, datasetHash: datasetHash)
        }
        print("wrote \(out): \(stageData.count) rows × \(classes) logits (\(split), stage \(config.stage.rawValue))")
    }

    private func writePredictions(logits: [Float], stageData: StageData, config: TrainingConfig, datasetHash: String)
        throws
    {
        let classes = config.stage.head.classes
        try AtomicFile.write(to: out, overwrite: force ? .replace : .fail) { temporary in
            let file = try H5File.create(temporary, mode: .truncate)
            try file.setAttribute("format", "ablate-predictions")
            try file.setAttribute("format_version", 1)
            try file.setAttribute("checkpoint", checkpoint)
            try file.setAttribute("config", try config.canonicalJSON())
            try file.setAttribute("dataset_sha256", datasetHash)
            try file.setAttribute("split", split)
            try file.setAttribute("stage", config.stage.rawValue)
            try file.writeDataset("logits", logits, shape: [stageData.count, classes])
            try file.writeDataset("labels", stageData.labels.map(Int64.init), shape: [stageData.count])
            try file.writeDataset("rows", stageData.rows.map(Int64.init), shape: [stageData.count])
            try file.close()
        }
    }
}
