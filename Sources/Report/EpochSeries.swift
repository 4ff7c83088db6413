// EpochSeries: every number a cell recorded per epoch, flattened to named values (curves, epochs.csv).
import AblateSupport
import Foundation

/// One epoch of one cell as flat, named numbers taken from its record in `metrics.jsonl`.
///
/// Names follow one rule, the same for native and command cells (see docs/report-format.md):
/// - a top-level number keeps its key (`seconds`, or a command's `val_macro_f1`, `train_loss`, `val_rmse`);
/// - a number inside a top-level object is `<object>_<key>`: a native record's `val.macro_f1` is `val_macro_f1`,
///   `train.loss` is `train_loss`; the learning rates (`learning_rates.head`) are `lr_<group>` (`lr_head`);
/// - arrays (per-class values, the confusion matrix), strings, booleans and non-finite numbers are left out.
/// A name defined twice in one record (a top-level `val_loss` beside `val.loss`) keeps the top-level value.
public struct EpochPoint: Sendable, Equatable, Codable {
    public var epoch: Int
    /// Metric name → value, finite numbers only.
    public var values: [String: Double]

    public init(epoch: Int, values: [String: Double]) {
        self.epoch = epoch
        self.values = values
    }

    /// The flat values of one decoded record (`epoch` itself is not among them).
    static func flatten(_ record: [String: Any]) -> [String: Double] {
        var values: [String: Double] = [:]
        for (key, value) in record where key != "epoch" {
            if let number = number(value) {
                values[key] = number
            }
        }
        for (key, value) in record {
            guard let object = value as? [String: Any] else { continue }
            let prefix = key == "learning_rates" ? "lr" : key
            for (inner, innerValue) in object {
                guard let number = number(innerValue) else { continue }
                let name = "\(prefix)_\(inner)"
                if values[name] == nil { values[name] = number }
            }
        }
        return values
    }

    /// A finite JSON number that is not a boolean.
    private static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !number.isJSONBoolean else { return nil }
        let double = number.doubleValue
        return double.isFinite ? double : nil
    }
}

extension MetricRecords {
    /// Every epoch's flat values, in ascending epoch order.
    var points: [EpochPoint] {
        records.map { EpochPoint(epoch: $0.epoch, values: EpochPoint.flatten($0.record)) }
    }
}

extension Array where Element == EpochPoint {
    /// The names that occur in any point, sorted.
    public var metricNames: [String] { Set(flatMap(\.values.keys)).sorted() }
}
