// ResultsWriter: a finished cell's central results under STATE/runs/<variant>/seed-<seed>/.
import AblateSupport
import Foundation
import TransferKit

/// Writes `metrics.jsonl` (every epoch, from the ledger), `summary.json`, and links `best.h5`, `last.h5`,
/// `predictions.h5` from the artifact store, each replaced atomically. Each file is the latest version over all
/// attempts (`Ledger.resultFiles`): the results are a function of the cell, not of its last attempt.
public struct ResultsWriter {
    public let ledger: Ledger
    public let store: ArtifactStore

    public init(ledger: Ledger, store: ArtifactStore) {
        self.ledger = ledger
        self.store = store
    }

    /// The run directory of a cell, relative to the state directory.
    public static func relativeDirectory(variant: String, seed: UInt64) -> String { "runs/\(variant)/seed-\(seed)" }

    public func write(_ cell: CellRecord) throws {
        let directory = store.absolute(Self.relativeDirectory(variant: cell.variant, seed: cell.seed))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(Array(try metricsLines(cell).utf8), to: "\(directory)/metrics.jsonl", overwrite: .replace)
        if let summary = cell.summaryJSON {
            try AtomicFile.write(Array((summary + "\n").utf8), to: "\(directory)/summary.json", overwrite: .replace)
        }
        for file in try ledger.resultFiles(cell: cell.id, upTo: cell.attempt) {
            guard let artifact = try ledger.artifact(file.sha256) else { continue }
            let source = store.absolute(artifact.path)
            let target = "\(directory)/\(file.name)"
            let temporary = "\(target).tmp-\(getpid())"
            try? FileManager.default.removeItem(atPath: temporary)
            if link(source, temporary) != 0 {
                try FileManager.default.copyItem(atPath: source, toPath: temporary)
            }
            if rename(temporary, target) != 0 {
                throw ArtifactStoreError("\(target): cannot move into place (errno \(errno))")
            }
        }
    }

    /// Every epoch of the cell once: for each epoch, the record of the latest attempt that reported it (a resumed
    /// attempt repeats nothing before its checkpoint, and supersedes what an earlier attempt reported after it).
    public func metricsLines(_ cell: CellRecord) throws -> String {
        try mergedMetrics(cell).map { $0.record + "\n" }.joined()
    }

    /// The records behind `metricsLines`, by epoch.
    public func mergedMetrics(_ cell: CellRecord) throws -> [MetricsRecord] {
        var byEpoch: [Int: MetricsRecord] = [:]
        for attempt in 1...max(1, cell.attempt) {
            for record in try ledger.metrics(cell: cell.id, attempt: attempt) { byEpoch[record.epoch] = record }
        }
        let final = try ledger.metrics(cell: cell.id, attempt: cell.attempt).map(\.epoch).max() ?? Int.max
        return byEpoch.keys.sorted().filter { $0 <= final }.compactMap { byEpoch[$0] }
    }
}
