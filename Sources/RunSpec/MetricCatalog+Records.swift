// MetricCatalog+Records: a metric's value in one decoded epoch record, native or a command's line.
import Foundation

extension MetricCatalog {
    /// The value of `metric` in an epoch record (a decoded `metrics.jsonl` line): its top-level key (a command's
    /// line), else for a native metric the field of the record's `val` object; nil when the record lacks it or it is
    /// not a finite number.
    public static func value(of metric: String, in record: [String: Any]) -> Double? {
        if let value = finite(record[metric]) { return value }
        guard let field = native.first(where: { $0.name == metric })?.field, let val = record["val"] as? [String: Any]
        else { return nil }
        return finite(val[field])
    }

    /// A finite JSON number, nil for anything else.
    public static func finite(_ value: Any?) -> Double? {
        guard let double = (value as? NSNumber)?.doubleValue, double.isFinite else { return nil }
        return double
    }
}
