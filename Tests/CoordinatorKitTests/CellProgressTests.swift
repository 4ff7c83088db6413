// CellProgressTests: pace over the latest epochs, rows/s from the record, an ETA that counts down, the sweep's line.
import CoordinatorKit
import WireProtocol
import XCTest

final class CellProgressTests: XCTestCase {
    private func record(_ rows: [Int]) -> String {
        "{\"epoch\":1,\"train\":{\"loss\":0.5,\"support\":[\(rows.map(String.init).joined(separator: ","))]}}"
    }

    func testThePaceIsTheMeanOfTheLatestThreeEpochsAndBadTimesAreIgnored() {
        var progress = CellProgress()
        XCTAssertNil(progress.secondsPerEpoch)
        for (index, seconds) in [10.0, 2, .nan, 4, -1, 6, .infinity].enumerated() {
            progress.record(seconds: seconds, trainLoss: 0.5, valMacroF1: 0.4, record: "{}", at: Double(index))
        }
        XCTAssertEqual(progress.secondsPerEpoch, 4, "mean of 2, 4 and 6")
        XCTAssertEqual(progress.workSeconds, 22)
        XCTAssertEqual(progress.lastReportAt, 6)
    }

    func testTheETACountsDownDuringAnEpochAndStopsAtTheEpochsAfterIt() {
        var progress = CellProgress()
        progress.record(seconds: 20, trainLoss: 0.5, valMacroF1: 0.4, record: "{}", at: 100)
        XCTAssertEqual(progress.eta(remainingEpochs: 3, now: 100), 60)
        XCTAssertEqual(progress.eta(remainingEpochs: 3, now: 105), 55, "five seconds later, five seconds less")
        XCTAssertEqual(progress.eta(remainingEpochs: 3, now: 119), 41)
        XCTAssertEqual(progress.eta(remainingEpochs: 3, now: 150), 40, "an epoch that overruns: the two after it")
        XCTAssertEqual(progress.eta(remainingEpochs: 0, now: 150), 0)
        XCTAssertEqual(progress.eta(remainingEpochs: 3, now: 90), 60, "a clock behind the report counts as no time")
    }

    func testRowsPerSecondLossAndMetricComeFromTheLatestEpoch() {
        var progress = CellProgress()
        progress.record(seconds: 2, trainLoss: 0.7, valMacroF1: 0.3, record: record([100, 200, 100]), at: 1)
        XCTAssertEqual(progress.samplesPerSecond, 200)
        progress.record(seconds: 4, trainLoss: .nan, valMacroF1: 0.35, record: "{\"epoch\":2}", at: 2)
        XCTAssertNil(progress.samplesPerSecond, "a record without train.support gives no rate")
        XCTAssertNil(progress.trainLoss)
        XCTAssertEqual(progress.lastValMacroF1, 0.35)
        // The ledger form: the stored metrics.jsonl line.
        var stored = CellProgress()
        stored.record(
            line:
                "{\"epoch\":1,\"seconds\":2.5,\"train\":{\"loss\":0.25,\"support\":[5,5]},\"val\":{\"macro_f1\":0.5}}",
            at: 7)
        XCTAssertEqual(stored.secondsPerEpoch, 2.5)
        XCTAssertEqual(stored.trainLoss, 0.25)
        XCTAssertEqual(stored.lastValMacroF1, 0.5)
        XCTAssertEqual(stored.samplesPerSecond, 4)
        // A command's flat line.
        var flat = CellProgress()
        flat.record(line: "{\"epoch\":1,\"seconds\":1,\"train_loss\":0.9,\"val_macro_f1\":0.6}", at: 1)
        XCTAssertEqual(flat.trainLoss, 0.9)
        XCTAssertEqual(flat.lastValMacroF1, 0.6)
    }

    private func row(_ id: String, _ state: String, stage: String = "2", epoch: Int, epochs: Int) -> StatusReply.Row {
        StatusReply.Row(
            cell: id, variant: "v", seed: 1, stage: stage, state: state, worker: nil, attempt: 1, epoch: epoch,
            epochs: epochs, bestValMacroF1: nil, etaSeconds: nil)
    }

    func testTheSweepsETASharesTheRemainingWorkOverTheRunningCells() {
        var a = CellProgress()
        a.record(seconds: 10, trainLoss: 0.5, valMacroF1: 0.4, record: "{}", at: 0)
        var b = CellProgress()
        b.record(seconds: 30, trainLoss: 0.5, valMacroF1: 0.4, record: "{}", at: 0)
        var rows = [
            row("a", "running", epoch: 1, epochs: 5),  // 4 × 10 = 40 s
            row("b", "running", epoch: 1, epochs: 3),  // 2 × 30 = 60 s
            row("c", "pending", epoch: 0, epochs: 4),  // median pace of stage 2 (20 s) × 4 = 80 s
            row("d", "done", epoch: 5, epochs: 5),
            row("e", "failed", epoch: 1, epochs: 5),
        ]
        let summary = StatusProgress.apply(to: &rows, progress: ["a": a, "b": b], now: 0)
        XCTAssertEqual(summary.etaSeconds, 90, "(40 + 60 + 80) / 2 running")
        XCTAssertEqual(summary.workerSeconds, 40)
        XCTAssertEqual([summary.cells, summary.done, summary.running, summary.failed], [5, 1, 2, 1])
        XCTAssertEqual(rows[0].etaSeconds, 40)
        XCTAssertEqual(rows[0].elapsedSeconds, 10)
        XCTAssertNil(rows[2].etaSeconds, "a pending cell has no ETA of its own")
        // A stage no cell has a pace for falls back to every cell's median; nothing known at all gives no ETA.
        var other = [row("x", "pending", stage: "1", epoch: 0, epochs: 2)] + rows
        XCTAssertEqual(
            StatusProgress.apply(to: &other, progress: ["a": a, "b": b], now: 0).etaSeconds, 110,
            "(40 + 60 + 80 + 2 × 20) / 2")
        var unknown = [row("x", "pending", epoch: 0, epochs: 2)]
        XCTAssertNil(StatusProgress.apply(to: &unknown, progress: [:], now: 0).etaSeconds)
    }

    func testTheTableShowsThePaceAndTheSweepLine() {
        var a = CellProgress()
        a.record(seconds: 12.5, trainLoss: 0.4321, valMacroF1: 0.5, record: record([250, 250]), at: 0)
        var rows = [row(String(repeating: "a", count: 64), "running", epoch: 2, epochs: 10)]
        let summary = StatusProgress.apply(to: &rows, progress: [rows[0].cell: a], now: 5)
        let lines = StatusTable.text(rows, summary: summary).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains("elapsed  s/epoch  rows/s    loss  last F1    best F1      ETA"), lines[0])
        XCTAssertTrue(lines[1].contains("17s     12.5      40  0.4321   50.00%"), lines[1])
        XCTAssertTrue(lines[1].hasSuffix("1m35s"), "7.5 s left of this epoch + 7 × 12.5 s: \(lines[1])")
        XCTAssertEqual(lines[2], "0/1 done, 1 running, 0 failed; sweep ETA 1m35s; 0.00 worker-hours")
    }
}

extension CellProgressTests {
    /// A heartbeat's progress shows as the phase of a running cell until the epoch's report replaces it.
    func testAHeartbeatsPhaseShowsUntilTheNextEpochReport() {
        var progress = CellProgress()
        progress.heard(JobProgress(cell: "c", attempt: 1, epoch: 0))
        XCTAssertNil(progress.phaseText, "no phase: nothing to show")
        progress.heard(
            JobProgress(cell: "c", attempt: 1, epoch: 0, phase: .cache, rowsDone: 400, rowsTotal: 1000))
        XCTAssertEqual(progress.phaseText, "cache 40%")
        progress.heard(
            JobProgress(
                cell: "c", attempt: 1, epoch: 0, phase: .train, rowsDone: 425, rowsTotal: 1000, rowsPerSecond: 850))
        var rows = [row("c", "running", epoch: 0, epochs: 4)]
        _ = StatusProgress.apply(to: &rows, progress: ["c": progress], now: 0)
        XCTAssertEqual(rows[0].phase, "train 42%")
        XCTAssertEqual(rows[0].samplesPerSecond, 850, "the rate inside the epoch, before any epoch report")
        XCTAssertEqual(rows[0].etaSeconds ?? 0, 575.0 / 850 + 3 * 1000.0 / 850, accuracy: 1e-9, "a first estimate")
        progress.record(seconds: 2, trainLoss: 0.5, valMacroF1: 0.4, record: "{}", at: 1)
        XCTAssertNil(progress.phaseText)
        var done = [row("c", "done", epoch: 4, epochs: 4)]
        progress.heard(JobProgress(cell: "c", attempt: 1, epoch: 1, phase: .validate, rowsDone: 0, rowsTotal: 9))
        _ = StatusProgress.apply(to: &done, progress: ["c": progress], now: 2)
        XCTAssertNil(done[0].phase, "only a running cell has a phase")
    }
}
