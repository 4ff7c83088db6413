// CellProgress: what a cell's epoch reports say about its pace — seconds per epoch, samples/s, loss, ETA that counts down.
import Foundation
import RunSpec
import WireProtocol

/// A cell's progress as its epoch reports show it, in every attempt so far. Pure: fed by `record`, read with a time.
public struct CellProgress: Sendable, Equatable {
    /// Worker seconds spent in the epochs reported, over every attempt (the epochs' own `seconds`).
    public private(set) var workSeconds: Double = 0
    /// Seconds of the latest epochs reported (at most `window`), newest last.
    public private(set) var recentSeconds: [Double] = []
    /// When the latest epoch report arrived (the coordinator's clock), nil before the first.
    public private(set) var lastReportAt: Double?
    /// Training loss and validation macro-F1 of the latest epoch (nil when it did not report them).
    public private(set) var trainLoss: Double?
    public private(set) var lastValMacroF1: Double?
    /// Training rows per second in the latest epoch (from its record's `train.support`), nil when unknown.
    public private(set) var samplesPerSecond: Double?

    /// Where the run is inside its current epoch or cache build, from the worker's latest heartbeat (cleared by the
    /// next epoch report).
    public private(set) var within: JobProgress?

    /// Epochs averaged for the pace.
    public static let window = 3

    public init() {}

    /// Takes one epoch report received at `time`. `record` is its `metrics.jsonl` line.
    public mutating func record(seconds: Double, trainLoss: Double, valMacroF1: Double, record: String, at time: Double)
    {
        take(seconds: seconds, trainLoss: trainLoss, valMacroF1: valMacroF1, record: Self.object(record), at: time)
    }

    /// Takes one epoch report whose record is already parsed (each record is parsed once).
    private mutating func take(
        seconds: Double, trainLoss: Double, valMacroF1: Double, record: [String: Any], at time: Double
    ) {
        lastReportAt = time
        within = nil
        self.trainLoss = trainLoss.isFinite ? trainLoss : nil
        lastValMacroF1 = valMacroF1.isFinite ? valMacroF1 : nil
        samplesPerSecond = nil
        guard seconds.isFinite, seconds > 0, seconds < 1e9 else { return }
        workSeconds += seconds
        recentSeconds = Array((recentSeconds + [seconds]).suffix(Self.window))
        if let rows = Self.trainingRows(record), rows > 0 { samplesPerSecond = Double(rows) / seconds }
    }

    /// Takes a stored epoch record (a ledger row or a `metrics.jsonl` line) received at `time`.
    public mutating func record(line: String, at time: Double) {
        let object = Self.object(line)
        let train = object["train"] as? [String: Any]
        let val = object["val"] as? [String: Any]
        func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }
        take(
            seconds: number(object["seconds"]), trainLoss: number(train?["loss"] ?? object["train_loss"]),
            valMacroF1: number(val?["macro_f1"] ?? object["val_macro_f1"]), record: object, at: time)
    }

    /// Takes a heartbeat's progress of the cell's current attempt (ignored without a phase).
    public mutating func heard(_ progress: JobProgress) {
        guard progress.phase != nil, progress.rowsDone != nil, progress.rowsTotal != nil else { return }
        within = progress
    }

    /// The phase as a status shows it: `cache 40%`, `train 42%` or `validate`; nil when unknown.
    public var phaseText: String? {
        guard let within, let phase = within.phase else { return nil }
        guard phase != .validate, let done = within.rowsDone, let total = within.rowsTotal, total > 0 else {
            return phase.rawValue
        }
        return "\(phase.rawValue) \(Int((100 * Double(done) / Double(total)).rounded(.down)))%"
    }

    /// Mean seconds per epoch of the latest epochs; nil before the first timed one.
    public var secondsPerEpoch: Double? {
        recentSeconds.isEmpty ? nil : recentSeconds.reduce(0, +) / Double(recentSeconds.count)
    }

    /// Seconds until the last of `remainingEpochs` ends at the current pace, counting down during an epoch: the
    /// part of the current epoch still to go (never below zero) plus the epochs after it. Nil without a pace.
    /// Before the first timed epoch, a run inside its first epoch's training gives a first estimate from its rate:
    /// the epoch's rows left at that rate, then each later epoch's rows (validation not counted).
    public func eta(remainingEpochs: Int, now: Double) -> Double? {
        guard let pace = secondsPerEpoch else {
            guard let within, within.phase == .train, let rate = within.rowsPerSecond, rate > 0,
                let done = within.rowsDone, let total = within.rowsTotal, remainingEpochs > 0
            else { return nil }
            return Double(total - done) / rate + Double(remainingEpochs - 1) * Double(total) / rate
        }
        guard remainingEpochs > 0 else { return 0 }
        let since = lastReportAt.map { max(0, now - $0) } ?? 0
        return max(0, pace - since) + Double(remainingEpochs - 1) * pace
    }

    /// Rows trained in the epoch: the sum of the record's `train.support` (per-class counts), if it has one.
    static func trainingRows(_ record: [String: Any]) -> Int? {
        guard let train = record["train"] as? [String: Any], let support = train["support"] as? [NSNumber] else {
            return nil
        }
        return support.reduce(0) { $0 + $1.intValue }
    }

    /// An epoch record's JSON object (empty when the line is not one).
    static func object(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }
}
