// Predictions: `predictions.h5`, the best epoch's validation logits and labels (what paired significance tests need).
import AblateSupport
import Foundation
import HDF5Kit

/// One epoch's outputs as the trainer reports them to whoever runs it.
public struct EpochOutputs: Sendable {
    public var record: EpochRecord
    /// `record` as its `metrics.jsonl` line (no newline).
    public var recordJSON: String
    /// Files (re)written in the run directory after this epoch: `last.h5`, and `best.h5`, `predictions.h5` when it
    /// was the best epoch so far.
    public var files: [String]
    /// True when this was the run's last epoch.
    public var finished: Bool
}

/// `predictions.h5`: datasets `logits` (float32, rows × classes) and `labels` (int64, rows), attribute `epoch`.
/// Rows are the validation split in file order, so two runs on the same dataset pair up row by row.
public enum Predictions {
    public static func write(logits: [Float], labels: [Int], classes: Int, epoch: Int, to path: String) throws {
        let file = try H5File.createInMemory()
        try file.setAttribute("format", "ablate-predictions")
        try file.setAttribute("format_version", 1)
        try file.setAttribute("epoch", epoch)
        try file.writeDataset("logits", logits, shape: [labels.count, classes])
        try file.writeDataset("labels", labels.map { Int64($0) }, shape: [labels.count])
        let image = try file.imageBytes()
        try file.close()
        try AtomicFile.write(image, to: path, overwrite: .replace)
    }

    /// Reads `(logits, labels, classes, epoch)` back.
    public static func read(_ path: String) throws -> (logits: [Float], labels: [Int], classes: Int, epoch: Int) {
        let file = try H5File.open(path)
        let logits = try file.dataset("logits")
        let labels: [Int64] = try file.dataset("labels").read()
        var epoch = 0
        if case .integer(let value) = try file.attribute("epoch") { epoch = Int(value) }
        let values: [Float] = try logits.read()
        try file.close()
        return (values, labels.map { Int($0) }, logits.shape.count == 2 ? logits.shape[1] : 0, epoch)
    }
}
