// MetricRecords: a cell's per-epoch records (metrics.jsonl) and the value of the sweep's metric in each.
import CoordinatorKit
import Foundation
import RunSpec
import WorkerKit

/// The epoch records of a cell's central `metrics.jsonl`, one per epoch (the last line of an epoch wins), as JSON
/// objects: a native record (`{"epoch":…, "val":{"macro_f1":…, …}, …}`) or a command's line (top-level keys).
struct MetricRecords {
    /// (epoch, record) in ascending epoch order.
    var records: [(epoch: Int, record: [String: Any])]

    /// Reads `path`; no records when the file is missing.
    static func read(_ path: String) throws -> MetricRecords {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return MetricRecords(records: []) }
        var byEpoch: [Int: [String: Any]] = [:]
        for (index, line) in text.split(separator: "\n").enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let epoch = (object["epoch"] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) })
            else {
                throw ReportError("\(path):\(index + 1): not an epoch record")
            }
            byEpoch[epoch] = object
        }
        return MetricRecords(records: byEpoch.keys.sorted().compactMap { epoch in byEpoch[epoch].map { (epoch, $0) } })
    }

    /// The value of `metric` in `record`: its top-level key (a command's line), else for a native metric the field
    /// of the record's `val` object; nil when the record lacks it or it is not a finite number.
    static func value(of metric: String, in record: [String: Any]) -> Double? {
        MetricCatalog.value(of: metric, in: record)
    }

    /// The metric's value per epoch, skipping records that lack it.
    func values(of metric: String) -> [EpochValue] {
        records.compactMap { entry in
            Self.value(of: metric, in: entry.record).map { EpochValue(epoch: entry.epoch, value: $0) }
        }
    }

    /// The best epoch by the metric's goal (the earliest among equals) and its value; nil when no record has it.
    func best(_ metric: SweepMetric) -> EpochValue? {
        values(of: metric.name).reduce(nil) { best, next in
            guard let best else { return next }
            return metric.isBetter(next.value, than: best.value) ? next : best
        }
    }

    /// The validation metrics of `epoch`'s record: a native record's `val` object, or a command line's keys
    /// (`CommandRecord`); nil when there is no such record or it cannot be read.
    func metrics(epoch: Int) -> EpochMetrics? {
        guard let record = records.first(where: { $0.epoch == epoch })?.record else { return nil }
        if record["val"] is [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: record),
            let native = try? Self.decoder.decode(EpochRecord.self, from: data)
        {
            return EpochMetrics(native)
        }
        return CommandRecord.metrics(record)
    }

    /// The decoder of native records (snake_case keys, non-finite numbers as strings, as the worker writes them).
    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
