// TrainCommandTests: `ablate train` and `ablate predict` end to end: outputs, run files, one-line errors.
import DatasetKit
import Foundation
import HDF5Kit
import RunSpec
import TestSupport
import Testing

@Suite("ablate train / predict (end to end)", .serialized)
struct TrainCommandTests {
    static let dir = TemporaryDirectory("ablate-cli-train")
    static let data = dir.file("d.h5")
    static let stage1 = dir.file("stage1")
    static let prepared: Bool = {
        let synth = try? AblateBinary.run([
            "data", "synth", "--out", data, "--train", "900", "--val", "300", "--seed", "3",
        ])
        let train = try? AblateBinary.run([
            "train", "--data", data, "--stage", "1", "--out", stage1, "--width", "16", "--epochs", "1",
            "--batch-size", "64", "--max-train-rows", "256", "--max-val-rows", "128",
        ])
        return synth?.status == 0 && train?.status == 0
    }()

    @Test func stage1ThenStage2ThenPredict() throws {
        #expect(Self.prepared)
        let out = Self.dir.file("stage2")
        let result = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "2", "--out", out, "--stage1-checkpoint", "\(Self.stage1)/best.h5",
            "--width", "16", "--epochs", "2", "--batch-size", "32", "--loss", "poly", "--max-val-rows", "120",
            "--cache-dir", Self.dir.file("cache"),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("epoch 1/2"))
        #expect(result.stdout.contains("epoch 2/2"))
        #expect(result.stdout.contains("done: completed after 2 epochs"))
        let summary = try String(contentsOfFile: "\(out)/summary.json", encoding: .utf8)
        #expect(summary.contains("\"loss\" : \"poly\""))
        #expect(summary.contains("\"best_epoch\""))
        let lines = try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)

        let predictions = Self.dir.file("pred.h5")
        let predict = try AblateBinary.run([
            "predict", "--checkpoint", "\(out)/best.h5", "--data", Self.data, "--out", predictions,
        ])
        #expect(predict.status == 0, "\(predict.stderr)")
        let file = try H5File.open(predictions)
        let logits = try file.dataset("logits")
        let labels = try file.dataset("labels")
        let rows = try file.dataset("rows")
        #expect(logits.shape.count == 2 && logits.shape[1] == 3)
        #expect(labels.shape == [logits.shape[0]] && rows.shape == [logits.shape[0]])
        #expect(labels.elementType == .int64)
        // The slim checkpoint predicts the same logits given its stage-1 checkpoint.
        let slimPredictions = Self.dir.file("pred-slim.h5")
        let slim = try AblateBinary.run([
            "predict", "--checkpoint", "\(out)/best.slim.h5", "--stage1-checkpoint", "\(Self.stage1)/best.h5",
            "--data", Self.data, "--out", slimPredictions,
        ])
        #expect(slim.status == 0, "\(slim.stderr)")
        #expect(try H5File.open(slimPredictions).dataset("logits").read(as: Float.self) == logits.read(as: Float.self))
        let fullSize = try FileManager.default.attributesOfItem(atPath: "\(out)/best.h5")[.size] as? Int ?? 0
        let slimSize = try FileManager.default.attributesOfItem(atPath: "\(out)/best.slim.h5")[.size] as? Int ?? 0
        #expect(slimSize * 4 < fullSize, "slim \(slimSize) vs full \(fullSize) bytes")
    }

    @Test func runFileAndFlags() throws {
        #expect(Self.prepared)
        Self.dir.write(
            "run.yaml",
            text: """
                stage: "2"
                width: 16
                loss: asymmetric
                gamma_neg: 3.0
                epochs: 1
                batch_size: 32
                max_train_rows: 96
                max_val_rows: 64
                """)
        let out = Self.dir.file("from-yaml")
        let result = try AblateBinary.run([
            "train", "--config", Self.dir.file("run.yaml"), "--data", Self.data, "--out", out,
            "--stage1-checkpoint", "\(Self.stage1)/best.h5", "--seed", "7", "--cache-dir", Self.dir.file("cache"),
            // Run-file keys without a hand-written flag before the settings table.
            "--weight-decay", "0.02", "--scheduler-patience=2", "--early-stopping-patience", "4",
            "--sampler", "shuffle",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try String(contentsOfFile: "\(out)/summary.json", encoding: .utf8)
        #expect(summary.contains("\"gamma_neg\" : 3"))
        #expect(summary.contains("\"seed\" : 7"))
        #expect(summary.contains("\"weight_decay\" : 0.02"))
        #expect(summary.contains("\"scheduler_patience\" : 2"))
        #expect(summary.contains("\"early_stopping_patience\" : 4"))
        #expect(summary.contains("\"sampler\" : \"shuffle\""))
        #expect(summary.contains("\"lr_head\" : 0.0001"), "Stage-2 default head learning rate")
    }

    @Test func badInputsGiveOneLine() throws {
        #expect(Self.prepared)
        Self.dir.write("bad.yaml", text: "stage: \"2\"\nwidht: 16\nepochs: 1\n")
        let unknown = try AblateBinary.run([
            "train", "--config", Self.dir.file("bad.yaml"), "--data", Self.data, "--out", Self.dir.file("x"),
        ])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown keys: widht"))
        let noStage1 = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "2", "--out", Self.dir.file("y"), "--width", "16",
        ])
        #expect(noStage1.status != 0)
        #expect(noStage1.stderr.contains("--stage1-checkpoint"))
        let badLoss = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "1", "--out", Self.dir.file("z"), "--loss", "hinge",
        ])
        #expect(badLoss.status != 0)
        #expect(badLoss.stderr.contains("unknown loss 'hinge'"))
        let badNumber = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "1", "--out", Self.dir.file("w"), "--weight-decay", "abc",
        ])
        #expect(badNumber.status != 0)
        #expect(badNumber.stderr.contains("--weight-decay abc: expected a number"))
        let badFlag = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "1", "--out", Self.dir.file("v"), "--widht", "16",
        ])
        #expect(badFlag.status != 0)
        #expect(badFlag.stderr.contains("unknown option '--widht'"))
        let infinite = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "1", "--out", Self.dir.file("u"), "--gamma", "inf",
        ])
        #expect(infinite.status != 0)
        #expect(infinite.stderr.contains("gamma must be a finite number"))
        for result in [unknown, noStage1, badLoss, badNumber, badFlag, infinite] {
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        }
        let diverged = try AblateBinary.run([
            "train", "--data", Self.data, "--stage", "2", "--out", Self.dir.file("div"), "--width", "16",
            "--stage1-checkpoint", "\(Self.stage1)/best.h5", "--lr-head", "1e30", "--lr-adapter", "1e30",
            "--epochs", "2", "--batch-size", "32", "--max-train-rows", "96", "--max-val-rows", "32", "--cache-dir",
            Self.dir.file("cache"),
        ])
        #expect(diverged.status != 0)
        #expect(diverged.stderr.contains("diverged at epoch"))
    }
}
