// SweepMetricTests: `metric:` — the name and mapping forms, defaults, every bad input at its line, and cell ids it leaves alone.
import CoordinatorKit
import RunSpec
import XCTest

final class SweepMetricTests: XCTestCase {
    static let dataset = String(repeating: "a", count: 64)

    /// A command sweep (line 1 is `name`) with `metric` on line 7.
    static func commandSweep(_ metric: String?) -> String {
        """
        name: m
        dataset: d.h5
        baseline: a
        seeds: [1, 2]
        train: {epochs: 3, command: [sh, run.sh, "{out}"]}
        variants: {a: {loss: ce}, b: {loss: focal}}
        \(metric.map { "metric: \($0)" } ?? "max_attempts: 3")
        """
    }

    /// A native sweep with `metric` on line 7.
    static func nativeSweep(_ metric: String) -> String {
        """
        name: m
        dataset: d.h5
        stage1_checkpoint: s.h5
        baseline: a
        seeds: [1, 2]
        variants: {a: {loss: ce}, b: {loss: focal}}
        metric: \(metric)
        """
    }

    func testDefaultIsMacroF1HigherIsBetterInPointsAtTheSignificanceThreshold() throws {
        let sweep = try Sweep.parse(
            text: Self.commandSweep(nil) + "\nsignificance: {threshold_pp: 2.5}", workingDirectory: "/w")
        XCTAssertEqual(sweep.metric, SweepMetric(name: "val_macro_f1", goal: .max, unit: "pp", threshold: nil))
        XCTAssertTrue(sweep.metric.isDefault)
        XCTAssertEqual(sweep.metric.scale, 100)
        XCTAssertEqual(sweep.metricThreshold, 2.5)
    }

    func testNameAndMappingForms() throws {
        let named = try Sweep.parse(text: Self.commandSweep("val_accuracy"), workingDirectory: "/w")
        XCTAssertEqual(named.metric, SweepMetric(name: "val_accuracy"))
        XCTAssertEqual(named.metric.scale, 100, "a fraction in pp is reported ×100")
        XCTAssertFalse(named.metric.isDefault)

        let full = try Sweep.parse(
            text: Self.commandSweep(#"{name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}"#),
            workingDirectory: "/w")
        XCTAssertEqual(full.metric, SweepMetric(name: "val_bd_rate", goal: .min, unit: "%", threshold: 0.5))
        XCTAssertEqual(full.metric.scale, 1, "any other metric is in its own units")
        XCTAssertEqual(full.metric.direction, -1)
        XCTAssertEqual(full.metricThreshold, 0.5)
        XCTAssertTrue(full.metric.isBetter(1, than: 2))
        XCTAssertFalse(full.metric.isBetter(2, than: 1))

        let partial = try Sweep.parse(text: Self.commandSweep("{goal: max}"), workingDirectory: "/w")
        XCTAssertEqual(partial.metric, SweepMetric(), "a mapping without name judges val_macro_f1")

        let native = try Sweep.parse(text: Self.nativeSweep("{name: val_loss, goal: min}"), workingDirectory: "/w")
        XCTAssertEqual(native.metric.name, "val_loss")
        XCTAssertEqual(native.metric.goal, .min)
    }

    func testEachBadInputIsOneLineAtItsKey() {
        let cases: [(String, String)] = [
            ("Val-F1", "m.yaml:7: metric: 'Val-F1' is not a metric name"),
            (
                String(repeating: "a", count: 65),
                "m.yaml:7: metric: '\(String(repeating: "a", count: 65))' is not a metric name"
            ),
            ("{name: 1abc}", "m.yaml:7: metric.name: '1abc' is not a metric name"),
            ("{name: val_x, goal: up}", "m.yaml:7: metric.goal: 'up' is not a goal (expected max or min)"),
            ("{unit: \"0123456789abcdefg\"}", "m.yaml:7: metric.unit: '0123456789abcdefg' is not a unit"),
            ("{unit: \"a|b\"}", "m.yaml:7: metric.unit: 'a|b' is not a unit"),
            ("{threshold: 0}", "m.yaml:7: metric.threshold: 0.0 must be greater than 0"),
            ("{threshold: -1}", "m.yaml:7: metric.threshold: -1.0 must be greater than 0"),
            ("{threshold: .inf}", "m.yaml:7: metric.threshold: expected a finite number, found '.inf'"),
            (
                "{name: val_x, colour: red}",
                "m.yaml:7: metric.colour: unknown key (expected name, goal, unit, threshold)"
            ),
            ("[val_x]", "m.yaml:7: metric: expected a text value"),
        ]
        for (metric, expected) in cases {
            do {
                _ = try Sweep.parse(text: Self.commandSweep(metric), sourceName: "m.yaml", workingDirectory: "/w")
                XCTFail("\(metric): accepted")
            } catch let error as SweepError {
                let lines = "\(error)".split(separator: "\n")
                XCTAssertEqual(lines.count, 1, "\(metric): \(error)")
                XCTAssertTrue(lines.first?.hasPrefix(expected) ?? false, "\(metric): \(error)")
            } catch {
                XCTFail("\(metric): \(error)")
            }
        }
    }

    func testEveryProblemOfTheMappingIsReportedAtOnce() {
        let text = Self.commandSweep("\n  name: Bad\n  goal: up\n  threshold: 0")
        XCTAssertThrowsError(try Sweep.parse(text: text, sourceName: "m.yaml", workingDirectory: "/w")) { error in
            let lines = "\(error)".split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3, "\(error)")
            XCTAssertTrue(lines[0].hasPrefix("m.yaml:8: metric.name: 'Bad'"), lines[0])
            XCTAssertTrue(lines[1].hasPrefix("m.yaml:9: metric.goal: 'up'"), lines[1])
            XCTAssertTrue(lines[2].hasPrefix("m.yaml:10: metric.threshold: 0.0"), lines[2])
        }
    }

    func testANativeVariantMayOnlyJudgeWhatTheNativeTrainerRecords() {
        XCTAssertThrowsError(
            try Sweep.parse(text: Self.nativeSweep("val_bd_rate"), sourceName: "m.yaml", workingDirectory: "/w")
        ) { error in
            XCTAssertEqual(
                "\(error)",
                "m.yaml:7: metric: 'val_bd_rate' is not recorded by the native trainer, which variant a runs (it records "
                    + MetricCatalog.nativeNames.joined(separator: ", ") + ")")
        }
        for name in MetricCatalog.nativeNames {
            XCTAssertNoThrow(try Sweep.parse(text: Self.nativeSweep(name), workingDirectory: "/w"), name)
        }
    }

    func testTheMetricDoesNotEnterCellIds() throws {
        func ids(_ metric: String?) throws -> [String] {
            let sweep = try Sweep.parse(text: Self.commandSweep(metric), workingDirectory: "/w")
            return try SweepPlan.make(sweep, datasetContentHash: Self.dataset, stage1CheckpointSHA256: nil).cells.map(
                \.id)
        }
        let plain = try ids(nil)
        XCTAssertEqual(plain.count, 4)
        XCTAssertEqual(try ids("val_accuracy"), plain)
        XCTAssertEqual(try ids(#"{name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}"#), plain)
    }
}
