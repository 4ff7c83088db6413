// LedgerStatus: a sweep's status read from its ledger alone — rows, progress from the stored epoch records, its line.
import Foundation
import WireProtocol

/// What `ablate status --state` and the dashboard show: the planned cells with the progress their stored epoch
/// records give (`CellProgress` fed in arrival order, every attempt), at time `now`.
public enum LedgerStatus {
    public static func reply(_ ledger: Ledger, now: Double) throws -> StatusReply {
        let cells = try ledger.plannedCells()
        var progress: [String: CellProgress] = [:]
        for cell in cells where cell.attempt > 0 {
            var cellProgress = CellProgress()
            for attempt in 1...cell.attempt {
                for record in try ledger.metrics(cell: cell.id, attempt: attempt) {
                    cellProgress.record(line: record.record, at: record.receivedAt)
                }
            }
            if cellProgress.lastReportAt != nil { progress[cell.id] = cellProgress }
        }
        var rows = StatusTable.rows(cells)
        let summary = StatusProgress.apply(to: &rows, progress: progress, now: now)
        return StatusReply(
            sweep: try ledger.sweepName() ?? "?", rows: rows, summary: summary,
            workers: StatusTable.workers(try ledger.workers(), cells: cells))
    }

    /// Each planned cell's validation macro-F1 and training loss per epoch, every attempt (a resumed attempt's
    /// epochs after those of the attempt before), for learning curves.
    public static func curves(_ ledger: Ledger) throws -> [Curve] {
        try ledger.plannedCells().map { cell in
            var points: [Int: Curve.Point] = [:]
            if cell.attempt > 0 {
                for attempt in 1...cell.attempt {
                    for record in try ledger.metrics(cell: cell.id, attempt: attempt) {
                        var line = CellProgress()
                        line.record(line: record.record, at: record.receivedAt)
                        points[record.epoch] = Curve.Point(
                            epoch: record.epoch, valMacroF1: record.valMacroF1.isFinite ? record.valMacroF1 : nil,
                            trainLoss: line.trainLoss)
                    }
                }
            }
            return Curve(
                cell: cell.id, variant: cell.variant, seed: cell.seed, stage: cell.stage, state: cell.state.rawValue,
                points: points.keys.sorted().compactMap { points[$0] })
        }
    }

    /// One cell's learning curve.
    public struct Curve: Encodable, Sendable, Equatable {
        public struct Point: Encodable, Sendable, Equatable {
            public var epoch: Int
            public var valMacroF1: Double?
            public var trainLoss: Double?

            enum CodingKeys: String, CodingKey {
                case epoch
                case valMacroF1 = "val_macro_f1"
                case trainLoss = "train_loss"
            }

            public func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(epoch, forKey: .epoch)
                try container.encode(valMacroF1, forKey: .valMacroF1)
                try container.encode(trainLoss, forKey: .trainLoss)
            }
        }

        public var cell: String
        public var variant: String
        public var seed: UInt64
        public var stage: String
        public var state: String
        public var points: [Point]
    }
}
