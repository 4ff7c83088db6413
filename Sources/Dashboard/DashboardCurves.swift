// DashboardCurves: `GET /api/curves` — per cell and seed its epochs' validation metric and losses, from the ledger's records.
import CoordinatorKit
import Foundation
import RunSpec

/// Learning curves of a sweep's cells as the ledger's stored epoch records give them. Pure: cells and records in,
/// JSON out (docs/dashboard.md#curves).
public enum DashboardCurves {
    /// One epoch's point: the sweep's metric, training loss and validation loss (nil where the record lacks them).
    public struct Point: Sendable, Equatable, Encodable {
        /// 1-based epoch number.
        public var epoch: Int
        /// The sweep's metric in the epoch record.
        public var metric: Double?
        /// The record's training loss.
        public var trainLoss: Double?
        /// The record's validation loss.
        public var valLoss: Double?

        enum CodingKeys: String, CodingKey {
            case epoch, metric
            case trainLoss = "train_loss"
            case valLoss = "val_loss"
        }

        /// A point from its values.
        public init(epoch: Int, metric: Double?, trainLoss: Double?, valLoss: Double?) {
            self.epoch = epoch
            self.metric = metric
            self.trainLoss = trainLoss
            self.valLoss = valLoss
        }

        /// Encodes every key, `null` for a missing value.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(epoch, forKey: .epoch)
            try container.encode(metric, forKey: .metric)
            try container.encode(trainLoss, forKey: .trainLoss)
            try container.encode(valLoss, forKey: .valLoss)
        }
    }

    /// One cell's curve.
    public struct Curve: Sendable, Equatable, Encodable {
        /// The cell's id.
        public var cell: String
        /// The cell's variant (`stage1` for the stage-1 job).
        public var variant: String
        /// A string: seeds are 64-bit.
        public var seed: String
        /// The cell's stage and its state (`pending`, `running`, `done`, `failed`).
        public var stage: String
        public var state: String
        /// Whether the cell is one of the compared variants' (false for the stage-1 job the others start from).
        public var compared: Bool
        /// Its points, by epoch.
        public var epochs: [Point]

        /// A curve from its parts.
        public init(
            cell: String, variant: String, seed: String, stage: String, state: String, compared: Bool, epochs: [Point]
        ) {
            self.cell = cell
            self.variant = variant
            self.seed = seed
            self.stage = stage
            self.state = state
            self.compared = compared
            self.epochs = epochs
        }
    }

    struct Document: Encodable {
        struct Metric: Encodable {
            var name: String
            var goal: String
        }
        var metric: Metric
        var cells: [Curve]
    }

    /// The points of one cell from its stored records in arrival order (every attempt): a later record of an epoch
    /// replaces an earlier one (a resumed attempt repeats the epochs after its checkpoint).
    public static func points(records: [String], metric: String) -> [Point] {
        var byEpoch: [Int: Point] = [:]
        for line in records {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                let epoch = (object["epoch"] as? NSNumber)?.intValue
            else { continue }
            let train = object["train"] as? [String: Any]
            let val = object["val"] as? [String: Any]
            byEpoch[epoch] = Point(
                epoch: epoch, metric: MetricCatalog.value(of: metric, in: object),
                trainLoss: MetricCatalog.finite(train?["loss"] ?? object["train_loss"]),
                valLoss: MetricCatalog.finite(val?["loss"] ?? object["val_loss"]))
        }
        return byEpoch.keys.sorted().compactMap { byEpoch[$0] }
    }

    /// The JSON document: `{"metric": {"name", "goal"}, "cells": [{cell, variant, seed, stage, state, compared,
    /// epochs}]}`.
    public static func json(curves: [Curve], metric: SweepMetric) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let document = Document(metric: .init(name: metric.name, goal: metric.goal.rawValue), cells: curves)
        return Array(try encoder.encode(document))
    }
}
