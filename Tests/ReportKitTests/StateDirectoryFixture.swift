// StateDirectoryFixture: a coordinator state directory built with the real Ledger API and real result files.
import AblateSupport
import CoordinatorKit
import Foundation
import NN
import RunSpec
import TestSupport
import WorkerKit
import XCTest

/// A finished sweep of synthetic runs: ledger rows (sweep, cells, attempts, worker) and, per cell,
/// `runs/<variant>/seed-<seed>/{summary.json, metrics.jsonl, predictions.h5}`. Each run has 5 epochs; its best
/// epoch is 3 and carries the metrics of its predictions, while the last epoch has other, recognisable metrics.
struct StateDirectoryFixture {
    static let rows = 1200
    static let classes = 3
    static let bestEpoch = 3
    static let sweepText = """
        name: report-fixture
        dataset: /nonexistent/data.h5
        stage1_checkpoint: /nonexistent/stage1.h5
        baseline: base
        seeds: [1, 2, 3]
        train: {width: 16, epochs: 5}
        variants:
          base: {loss: cb_focal}
          good: {loss: poly, epsilon: 1.0}
          same: {loss: focal, gamma: 2.0}
        significance: {threshold_pp: 1.0, resamples: 2000, seed: 3}
        """

    /// Accuracy of each variant's synthetic predictions.
    static let skill = ["base": 0.62, "good": 0.72, "same": 0.62]

    let directory: TemporaryDirectory
    var state: String { directory.path + "/state" }
    /// The best-epoch and last-epoch validation metrics written for each cell, by "variant/seed".
    var best: [String: ClassificationMetrics] = [:]
    var last: [String: ClassificationMetrics] = [:]

    /// Builds the directory of `sweepText` (by default the fixture's), whose variants predict with accuracy `skill`
    /// (a "variant/seed" key, by sweep seed, overrides the variant's for that seed);
    /// `configEdit` may change a cell's resolved config JSON before it is stored. A replica's cells have its derived
    /// seeds, as planned. `command` writes each cell as a command cell does (docs/bring-your-own-trainer.md): the
    /// command's own `metrics.jsonl` lines, the worker's `CommandSummary`, no `predictions.h5`.
    static func make(
        sweepText: String = sweepText, skill: [String: Double] = skill, command: Bool = false,
        configEdit: (String, UInt64, String) -> String = { $2 }
    ) throws -> StateDirectoryFixture {
        var fixture = StateDirectoryFixture(directory: TemporaryDirectory("ablate-report"))
        let sweep = try Sweep.parse(text: sweepText, sourceName: "fixture", workingDirectory: fixture.directory.path)
        let replicaSeeds = ReplicaSeeds.seeds(of: sweep)
        let ledger = try Ledger(directory: fixture.state)
        _ = try ledger.beginRun(sweepName: sweep.name, sweepText: sweepText)
        try ledger.upsertWorker(
            WorkerRecord(
                name: "w1", incarnation: "i1", host: "host-a", threads: 1, gpu: nil, slots: 1,
                codeVersion: "0.1.0", blasCore: "Haswell", firstSeen: 0, lastSeen: 0))
        var generator = PCG64(seed: 99)
        let labels = (0..<rows).map { _ in generator.bounded(classes) }
        var position = 0
        for variant in sweep.variants {
            for sweepSeed in sweep.seeds {
                let seed = replicaSeeds[variant.name]?[sweepSeed] ?? sweepSeed
                let config = configEdit(variant.name, seed, try variant.config(seed: seed).canonicalJSON())
                let id = ContentID.hex("\(variant.name)/\(seed)")
                var cell = CellRecord(
                    id: id, variant: variant.name, seed: seed, stage: "2", configJSON: config, position: position,
                    epochs: 5)
                position += 1
                _ = try ledger.addCells([cell])
                let predicted = labels.map { label in
                    generator.unitDouble() < (skill["\(variant.name)/\(sweepSeed)"] ?? skill[variant.name] ?? 0.5)
                        ? label : (label + 1 + generator.bounded(classes - 1)) % classes
                }
                let metrics =
                    command
                    ? try fixture.writeCommandRun(
                        variant: variant.name, seed: seed, labels: labels, predicted: predicted)
                    : try fixture.writeRun(
                        variant: variant.name, seed: seed, labels: labels, predicted: predicted, config: config)
                cell.state = .running
                cell.attempt = 1
                cell.worker = "w1"
                try ledger.update(
                    cell,
                    startingAttempt: AttemptRecord(cell: id, attempt: 1, worker: "w1", session: "s1", startedAt: 1000))
                cell.state = .done
                cell.worker = nil
                cell.epochsDone = 5
                cell.bestValMacroF1 = metrics.best.macroF1
                cell.summaryJSON = metrics.summary
                try ledger.update(cell, endingAttempt: (attempt: 1, outcome: "done", reason: nil, at: 1000 + 1800))
                fixture.best["\(variant.name)/\(seed)"] = metrics.best
                fixture.last["\(variant.name)/\(seed)"] = metrics.last
            }
        }
        try ledger.close()
        return fixture
    }

    /// The best epoch's metrics (of `predicted`) and the other epochs': everything predicted as class 0 except every
    /// third row, which is right (poorer F1, different precision).
    static func bestAndOther(labels: [Int], predicted: [Int]) -> (
        best: ClassificationMetrics, other: ClassificationMetrics
    ) {
        let k = classes
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (label, guess) in zip(labels, predicted) { confusion[label][guess] += 1 }
        var other = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (index, label) in labels.enumerated() { other[label][index % 3 == 0 ? label : 0] += 1 }
        return (
            ClassificationMetrics(confusion: confusion, loss: 0.5), ClassificationMetrics(confusion: other, loss: 0.9)
        )
    }

    /// Writes one run's files; returns its best and last metrics and its summary JSON.
    private func writeRun(variant: String, seed: UInt64, labels: [Int], predicted: [Int], config: String) throws
        -> (best: ClassificationMetrics, last: ClassificationMetrics, summary: String)
    {
        let directory = "\(state)/\(ResultsWriter.relativeDirectory(variant: variant, seed: seed))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let k = Self.classes
        let (best, last) = Self.bestAndOther(labels: labels, predicted: predicted)
        var lines: [String] = []
        for epoch in 1...5 {
            let record = try Self.epochRecord(
                epoch: epoch, val: epoch == Self.bestEpoch ? best : last, isBest: epoch == Self.bestEpoch)
            lines.append(try Self.text(record))
        }
        try Array((lines.joined(separator: "\n") + "\n").utf8).write(to: "\(directory)/metrics.jsonl")
        let logits = predicted.flatMap { guess in (0..<k).map { Float($0 == guess ? 2 : 0) } }
        try Predictions.write(
            logits: logits, labels: labels, classes: k, epoch: Self.bestEpoch, to: "\(directory)/predictions.h5")
        let summary: [String: Any] = [
            "status": "completed", "epochs_run": 5, "best_epoch": Self.bestEpoch,
            "best": try Self.epochRecord(epoch: Self.bestEpoch, val: best, isBest: true),
            "last": try Self.epochRecord(epoch: 5, val: last, isBest: false),
            "parameters": ["total": 1000, "trainable": 250, "trainable_share": 0.25], "class_weights": [1.0, 1.0, 1.0],
            "train_rows": 5000, "val_rows": labels.count, "seconds": 1500.0,
            "config": try JSONSerialization.jsonObject(with: Data(config.utf8)),
            "dataset_sha256": String(repeating: "d", count: 64), "stage1_sha256": String(repeating: "e", count: 64),
            "blas_core": "Haswell", "blas_threads": 1,
        ]
        let text = try Self.text(summary)
        try Array((text + "\n").utf8).write(to: "\(directory)/summary.json")
        return (best, last, text)
    }

    /// Writes one command cell's files: `metrics.jsonl` with the command's lines (the best epoch's line also has
    /// `val_accuracy` and `val_macro_precision`) and `summary.json` as the worker builds it; no predictions.
    private func writeCommandRun(variant: String, seed: UInt64, labels: [Int], predicted: [Int]) throws
        -> (best: ClassificationMetrics, last: ClassificationMetrics, summary: String)
    {
        let directory = "\(state)/\(ResultsWriter.relativeDirectory(variant: variant, seed: seed))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (best, last) = Self.bestAndOther(labels: labels, predicted: predicted)
        var lines: [MetricsLine] = []
        for epoch in 1...5 {
            let val = epoch == Self.bestEpoch ? best : last
            var object: [String: Any] = [
                "epoch": epoch, "val_macro_f1": val.macroF1, "val_loss": val.loss, "train_loss": 0.7, "seconds": 2.0,
            ]
            if epoch == Self.bestEpoch {
                object["val_accuracy"] = val.accuracy
                object["val_macro_precision"] = val.macroPrecision
            }
            lines.append(
                MetricsLine(
                    line: epoch, epoch: epoch, valMacroF1: val.macroF1, valLoss: val.loss, trainLoss: 0.7, seconds: 2.0,
                    record: try Self.text(object)))
        }
        try Array((lines.map(\.record).joined(separator: "\n") + "\n").utf8).write(to: "\(directory)/metrics.jsonl")
        let text = try XCTUnwrap(CommandSummary.json(lines: lines, command: ["sh", "train.sh"], seconds: 10))
        try Array((text + "\n").utf8).write(to: "\(directory)/summary.json")
        return (best, last, text)
    }

    static func epochRecord(epoch: Int, val: ClassificationMetrics, isBest: Bool) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let metrics = try JSONSerialization.jsonObject(with: encoder.encode(val))
        return [
            "epoch": epoch, "train": metrics, "val": metrics, "learning_rates": ["head": 0.0001],
            "epochs_without_improvement": 0,
            "is_best": isBest, "seconds": 10.0,
        ]
    }

    static func text(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// Deterministic 64-hex-digit ids for fixture cells.
enum ContentID {
    static func hex(_ text: String) -> String {
        var value: UInt64 = 1_469_598_103_934_665_603
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 1_099_511_628_211 }
        let word = String(value, radix: 16)
        return String((String(repeating: "0", count: 16 - word.count) + word).prefix(16)).padding(
            toLength: 64, withPad: "a", startingAt: 0)
    }
}

extension Array where Element == UInt8 {
    /// Writes the bytes to `path` (test helper).
    func write(to path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
