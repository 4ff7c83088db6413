// MetricGoalReportTests: a sweep judged on another metric — best epochs and verdicts by its goal, units, row-level scores.
import AblateSupport
import CoordinatorKit
import Foundation
import HDF5Kit
import ReportKit
import RunSpec
import TestSupport
import XCTest

final class MetricGoalReportTests: XCTestCase {
    static func sweepText(metric: String, extra: String = "") -> String {
        """
        name: bd
        dataset: /nonexistent/data.h5
        baseline: base
        seeds: [1, 2, 3]
        train: {epochs: 3, command: [sh, train.sh, "{out}"]}
        variants:
          base: {loss: ce}
          lower: {loss: focal}\(extra)
        significance: {threshold_pp: 1.0, resamples: 500, seed: 3}
        metric: \(metric)
        """
    }

    /// val_bd_rate per epoch (1, 2, 3): `lower` is about 2 below `base` at its lowest epoch (2) and about 2 below
    /// at its highest (1), with a little seed noise.
    static func values(_ variant: String, _ seed: UInt64) -> [Double] {
        let noises: [UInt64: Double] = [1: 0.05, 2: -0.04, 3: 0.02]
        let noise: Double = noises[seed] ?? 0
        if variant == "base" { return [5.0 + noise, 4.0 + noise, 4.5] }
        return [3.0 - noise, 2.0 - noise, 2.5]
    }

    /// Builds a state directory of command cells whose lines carry `val_bd_rate` (and the required
    /// `val_macro_f1`, equal everywhere); `scores` gives each cell a `predictions.h5` whose `score` averages the
    /// best epoch's (the lowest) value over `rows(variant)` rows, noisy per row.
    static func make(
        metric: String, values: (String, UInt64) -> [Double] = values, scores: Bool = false,
        rows: (String) -> Int = { _ in 400 }, skip: Set<String> = [], extra: String = ""
    ) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory("ablate-metric")
        let state = directory.path + "/state"
        let text = sweepText(metric: metric, extra: extra)
        let sweep = try Sweep.parse(text: text, sourceName: "fixture", workingDirectory: directory.path)
        let ledger = try Ledger(directory: state)
        _ = try ledger.beginRun(sweepName: sweep.name, sweepText: text)
        let plan = try SweepPlan.make(
            sweep, datasetContentHash: String(repeating: "a", count: 64), stage1CheckpointSHA256: nil)
        var records: [CellRecord] = []
        for (index, cell) in plan.cells.enumerated() {
            records.append(
                CellRecord(
                    id: cell.id, variant: cell.variant, seed: cell.seed, stage: "2",
                    configJSON: try cell.config.canonicalJSON(), position: index, epochs: 3))
        }
        _ = try ledger.addCells(records)
        var generator = PCG64(seed: 5)
        for record in try ledger.cells() {
            let run = "\(state)/\(ResultsWriter.relativeDirectory(variant: record.variant, seed: record.seed))"
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            let series = values(record.variant, record.seed)
            var lines: [MetricsLine] = []
            for (index, value) in series.enumerated() {
                var object: [String: Any] = ["epoch": index + 1, "val_macro_f1": 0.5]
                if !skip.contains("\(record.variant)/\(record.seed)") { object["val_bd_rate"] = value }
                let line = String(
                    decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
                lines.append(
                    MetricsLine(
                        line: index + 1, epoch: index + 1, valMacroF1: 0.5, valLoss: .nan, trainLoss: .nan,
                        seconds: 1, record: line))
            }
            try Data((lines.map(\.record).joined(separator: "\n") + "\n").utf8).write(
                to: URL(fileURLWithPath: "\(run)/metrics.jsonl"))
            let summary = try XCTUnwrap(CommandSummary.json(lines: lines, command: ["sh", "train.sh"], seconds: 3))
            if scores, let best = series.enumerated().min(by: { $0.element < $1.element }) {
                let count = rows(record.variant)
                var row = (0..<count).map { _ in best.element + 4 * (generator.unitDouble() - 0.5) }
                let shift = best.element - row.reduce(0, +) / Double(count)
                row = row.map { $0 + shift }
                let file = try H5File.create("\(run)/predictions.h5")
                try file.setAttribute("format", "ablate-predictions")
                try file.setAttribute("format_version", 1)
                try file.setAttribute("epoch", best.offset + 1)
                try file.writeDataset("score", row, shape: [count])
                try file.close()
            }
            var cell = record
            cell.state = .running
            cell.attempt = 1
            cell.worker = "w1"
            try ledger.update(
                cell,
                startingAttempt: AttemptRecord(
                    cell: cell.id, attempt: 1, worker: "w1", session: "s1", startedAt: 1000))
            cell.state = .done
            cell.worker = nil
            cell.epochsDone = 3
            cell.bestValMacroF1 = 0.5
            cell.summaryJSON = summary
            try ledger.update(cell, endingAttempt: (attempt: 1, outcome: "done", reason: nil, at: 1010))
        }
        try ledger.close()
        return directory
    }

    /// The same numbers judged with `goal: min` (lower is better) and `goal: max`: the best epoch follows the goal,
    /// Δ is printed as measured (negative), and the verdict is `better` for min and `worse` for max.
    func testLowerValuesAreBetterForMinAndWorseForMax() throws {
        let low = try Self.make(metric: #"{name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}"#)
        let report = try ReportBuilder.build(stateDirectory: low.path + "/state", now: 1_800_000_000)
        XCTAssertEqual(report.cells.count, 6, "\(report.warnings)")
        for cell in report.cells {
            XCTAssertEqual(cell.bestEpoch, 2, "the lowest val_bd_rate")
            XCTAssertEqual(cell.metric, Self.values(cell.variant, cell.seed)[1], accuracy: 1e-12)
            XCTAssertEqual(cell.history.map(\.value), Self.values(cell.variant, cell.seed))
        }
        let c = try XCTUnwrap(report.variants.first { $0.name == "lower" }?.comparison)
        XCTAssertEqual(c.deltaPP, -2.0 - 2 * (0.05 - 0.04 + 0.02) / 3, accuracy: 1e-9, "Δ in the metric's units")
        XCTAssertEqual(c.verdict, .better, c.sentence)
        XCTAssertEqual(c.seedRule, .better)
        XCTAssertEqual(c.probabilityOfImprovement, 1)
        XCTAssertFalse(c.rowsTested)
        XCTAssertEqual(c.unit, "%")
        XCTAssertTrue(c.sentence.hasPrefix("better by 2.02 % ["), c.sentence)
        XCTAssertTrue(
            c.sentence.hasSuffix("; seeds only, no row component (val_bd_rate has no per-row form)"), c.sentence)
        XCTAssertTrue(
            report.warnings.contains(
                "row-level tests: not available for val_bd_rate (no per-row form); seed-level statistics only"),
            "\(report.warnings)")

        let table = MarkdownReport.verdictTable(report)
        XCTAssertTrue(table.hasPrefix("Metric `val_bd_rate`: lower is better;"), table)
        XCTAssertTrue(table.contains("| Δ val_bd_rate (%) |"), table)
        XCTAssertTrue(table.contains("Seed rule (Δ < −0.5 %)"), table)
        XCTAssertTrue(table.contains("**better**"), table)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        let metric = try XCTUnwrap(json["metric"] as? [String: Any])
        XCTAssertEqual(metric["name"] as? String, "val_bd_rate")
        XCTAssertEqual(metric["goal"] as? String, "min")
        XCTAssertEqual(metric["unit"] as? String, "%")
        XCTAssertEqual(metric["threshold"] as? Double, 0.5)
        XCTAssertEqual(metric["row_level"] as? Bool, false)
        let csv = CSVReport.render(report)
        XCTAssertTrue(
            csv.split(separator: "\n").first?.hasSuffix("metric,metric_goal,metric_unit,metric_value,metric_sd")
                ?? false)
        XCTAssertTrue(csv.contains("val_bd_rate,min,%,"), csv)
        let html = HTMLReport.render(report)
        XCTAssertTrue(html.contains("Δ val_bd_rate vs base (%)"), "the forest plot's axis names the metric")

        let high = try Self.make(metric: #"{name: val_bd_rate, goal: max, unit: "%", threshold: 0.5}"#)
        let judgedHigh = try ReportBuilder.build(stateDirectory: high.path + "/state", now: 1_800_000_000)
        XCTAssertTrue(judgedHigh.cells.allSatisfy { $0.bestEpoch == 1 }, "the highest val_bd_rate")
        let h = try XCTUnwrap(judgedHigh.variants.first { $0.name == "lower" }?.comparison)
        XCTAssertLessThan(h.deltaPP, -1.5)
        XCTAssertEqual(h.verdict, .worse, h.sentence)
        XCTAssertEqual(h.seedRule, .worse)
        XCTAssertEqual(h.probabilityOfImprovement, 0)
    }

    /// A replica of `lower` whose rate is about 1 below its source's at their lowest epochs is checked against its
    /// source by the metric's goal: `better` than it (and the calibration warning) for `goal: min`.
    func testReplicaCheckFollowsTheGoal() throws {
        let replicaValues: (String, UInt64) -> [Double] = { variant, seed in
            variant == "lower_aa" ? [3.0, 1.0 + 0.01 * Double(seed % 7), 2.5] : Self.values(variant, seed)
        }
        let directory = try Self.make(
            metric: "{name: val_bd_rate, goal: min, unit: \"%\", threshold: 0.5}", values: replicaValues,
            extra: "\n  lower_aa: {replica_of: lower}")
        let report = try ReportBuilder.build(stateDirectory: directory.path + "/state", now: 1_800_000_000)
        let replica = try XCTUnwrap(report.variants.first { $0.name == "lower_aa" })
        XCTAssertEqual(replica.replicaVerdict, .better, "\(report.warnings)")
        XCTAssertTrue(
            report.warnings.contains(
                "calibration: replica lower_aa of lower came out better than lower — the noise floor exceeds the threshold"
            ), "\(report.warnings)")
    }

    /// A cell without a record of the metric is left out with a warning that names the metric.
    func testACellWithoutTheMetricIsLeftOut() throws {
        let directory = try Self.make(metric: "{name: val_bd_rate, goal: min}", skip: ["lower/2"])
        let report = try ReportBuilder.build(stateDirectory: directory.path + "/state", now: 1_800_000_000)
        XCTAssertEqual(report.cells.count, 5)
        XCTAssertTrue(
            report.warnings.contains { $0.hasPrefix("lower seed 2: left out:") && $0.contains("val_bd_rate") },
            "\(report.warnings)")
        XCTAssertEqual(report.variants.first { $0.name == "lower" }?.comparison?.pairedSeeds, [1, 3])
    }

    /// With a per-row `score` in every cell's predictions.h5, the metric is a mean of rows: the paired row tests run
    /// over the score rows (paired by index) and their variance enters the interval; a cell with another row count
    /// leaves that comparison at the seed level, with a warning.
    func testScoreRowsGiveRowLevelPairing() throws {
        let metric = #"{name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}"#
        let directory = try Self.make(metric: metric, scores: true)
        let report = try ReportBuilder.build(stateDirectory: directory.path + "/state", now: 1_800_000_000)
        XCTAssertEqual(report.significance.rowLevel, true)
        XCTAssertFalse(report.warnings.contains { $0.contains("score averages") }, "\(report.warnings)")
        let c = try XCTUnwrap(report.variants.first { $0.name == "lower" }?.comparison)
        XCTAssertTrue(c.rowsTested, "\(report.warnings)")
        let row = try XCTUnwrap(c.rowInterval)
        XCTAssertLessThan(row.highPP, 0, "the row-level interval lies below 0")
        XCTAssertGreaterThan(row.sdPP, 0)
        XCTAssertLessThan(try XCTUnwrap(c.rowPValue), 0.01)
        XCTAssertEqual(try XCTUnwrap(c.interval).rowVariance, row.sdPP * row.sdPP, accuracy: 1e-12)
        XCTAssertEqual(c.verdict, .better)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(JSONReport.render(report).utf8)) as? [String: Any])
        XCTAssertEqual((json["metric"] as? [String: Any])?["row_level"] as? Bool, true)

        let uneven = try Self.make(metric: metric, scores: true, rows: { $0 == "base" ? 400 : 300 })
        let seedsOnly = try ReportBuilder.build(stateDirectory: uneven.path + "/state", now: 1_800_000_000)
        let s = try XCTUnwrap(seedsOnly.variants.first { $0.name == "lower" }?.comparison)
        XCTAssertFalse(s.rowsTested)
        XCTAssertNil(s.rowInterval)
        XCTAssertTrue(
            seedsOnly.warnings.contains(
                "lower: score has 300 rows in a paired cell and 400 in the baseline's; seed-level statistics only"),
            "\(seedsOnly.warnings)")
    }

    /// `metric: val_accuracy` on native cells: Δ is the accuracy difference in pp, and the paired row tests
    /// recompute accuracy from the predictions (`testRowPatternsRecomputeAccuracy` tells it from macro-F1): the row
    /// interval surrounds the accuracy Δ.
    func testAccuracyIsJudgedInPointsWithRowLevelPairing() throws {
        let fixture = try StateDirectoryFixture.make(
            sweepText: StateDirectoryFixture.sweepText + "\nmetric: val_accuracy")
        let report = try ReportBuilder.build(stateDirectory: fixture.state, now: 1_800_000_000)
        XCTAssertEqual(report.cells.count, 9, "\(report.warnings)")
        XCTAssertTrue(report.significance.rowLevel)
        XCTAssertFalse(report.warnings.contains { $0.contains("predictions.h5 gives") }, "\(report.warnings)")
        for cell in report.cells {
            XCTAssertEqual(cell.bestEpoch, StateDirectoryFixture.bestEpoch)
            XCTAssertEqual(cell.metric, cell.best.accuracy, accuracy: 1e-12)
        }
        let good = try XCTUnwrap(report.variants.first { $0.name == "good" })
        let base = try XCTUnwrap(report.variants.first { $0.name == "base" })
        let c = try XCTUnwrap(good.comparison)
        let accuracy = try XCTUnwrap(good.accuracy?.mean) - (try XCTUnwrap(base.accuracy?.mean))
        XCTAssertEqual(c.deltaPP, accuracy, accuracy: 1e-9, "Δ accuracy in pp")
        XCTAssertTrue(c.rowsTested, "\(report.warnings)")
        let row = try XCTUnwrap(c.rowInterval)
        XCTAssertLessThan(row.lowPP, accuracy)
        XCTAssertGreaterThan(row.highPP, accuracy)
        XCTAssertLessThan(row.highPP - row.lowPP, 10)
        XCTAssertEqual(c.verdict, .better)
        XCTAssertTrue(MarkdownReport.verdictTable(report).contains("| Δ val_accuracy (pp) |"))
    }

    /// The mean-of-rows tests: Δ is the mean per-row difference; a constant shift is found by the randomization
    /// test, and no difference gives p = 1.
    func testMeanRowTestsOnKnownRows() throws {
        let differences = try MeanRowTests.differences(
            variant: [[1, 2, 3, 4], [2, 2, 2, 2]], baseline: [[0, 0, 0, 0], [1, 1, 1, 1]])
        XCTAssertEqual(differences, [1, 1.5, 2, 2.5])
        let shifted = [Double](repeating: 1, count: 200)
        let zero = [Double](repeating: 0, count: 200)
        let p = try MeanRowTests.pValues([shifted, zero], rounds: 200, seed: 1)
        XCTAssertLessThan(p[0], 0.01)
        XCTAssertEqual(p[1], 1)
        let interval = try MeanRowTests.intervals([shifted], resamples: 100, seed: 0, alpha: 0.05, scale: 100)
        XCTAssertEqual(interval[0].lowPP, 100, accuracy: 1e-9)
        XCTAssertEqual(interval[0].highPP, 100, accuracy: 1e-9)
        XCTAssertThrowsError(try MeanRowTests.differences(variant: [[1, 2]], baseline: [[1]]))
    }

    /// Accuracy by row patterns: the difference of the two sides' shares of correct rows.
    func testRowPatternsRecomputeAccuracy() throws {
        let labels = [0, 1, 2, 0, 1, 2, 0, 1]
        let variant = [[0, 1, 2, 0, 1, 2, 0, 0]]  // 7 of 8
        let baseline = [[0, 0, 0, 0, 0, 0, 0, 0]]  // 3 of 8
        var perClass: [Double] = []
        let accuracy = try RowPatterns(
            labels: labels, variant: variant, baseline: baseline, classes: 3, statistic: .accuracy)
        XCTAssertEqual(accuracy.delta(counts: accuracy.counts, perClass: &perClass), 0.5, accuracy: 1e-12)
        let f1 = try RowPatterns(labels: labels, variant: variant, baseline: baseline, classes: 3)
        XCTAssertNotEqual(f1.delta(counts: f1.counts, perClass: &perClass), 0.5, accuracy: 1e-6)
    }
}
