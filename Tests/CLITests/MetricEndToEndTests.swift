// MetricEndToEndTests: `ablate local` on command variants judged on their own lower-is-better metric (`metric:`).
import Foundation
import TestSupport
import XCTest

/// Two command variants × 3 seeds whose /bin/sh stub writes `val_bd_rate` in every `metrics.jsonl` line: `good`
/// has the lower rate (better for `goal: min`) but also the lower macro-F1, so a verdict on the default metric would
/// have said the opposite.
final class MetricEndToEndTests: XCTestCase {
    func testLowerIsBetterMetricEndsWithItsVerdictTable() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        // Epoch 2 has the lowest rate: good 2.13, 2.16, 2.19; base 4.12, 4.14, 4.16 (seeds 1, 2, 3).
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                if [ "$2" = good ]; then f1=0.40; e1=3.5; e2=2.$((10 + ABLATE_SEED * 3)); e3=2.8
                else f1=0.60; e1=4.9; e2=4.$((10 + ABLATE_SEED * 2)); e3=4.6; fi
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": $f1, \\"val_bd_rate\\": $e1}" >> "$out/metrics.jsonl"
                echo "{\\"epoch\\": 2, \\"val_macro_f1\\": $f1, \\"val_bd_rate\\": $e2}" >> "$out/metrics.jsonl"
                echo "{\\"epoch\\": 3, \\"val_macro_f1\\": $f1, \\"val_bd_rate\\": $e3}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "bd.yaml",
            text: """
                name: bd-rate
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2, 3]
                train: {epochs: 3, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  good: {loss: poly, epsilon: 1.0}
                significance: {resamples: 200}
                metric: {name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("bd.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("Metric `val_bd_rate`: lower is better;"), run.stdout)
        XCTAssertTrue(run.stdout.contains("| Δ val_bd_rate (%) |"), run.stdout)
        let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("| good |") }, run.stdout)
        XCTAssertTrue(row.contains("| -1.9800 |"), String(row))
        XCTAssertTrue(row.contains("**better**"), String(row))
        XCTAssertTrue(run.stdout.contains("- good: better by 1.98 % ["), run.stdout)

        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        let metric = try XCTUnwrap(report["metric"] as? [String: Any])
        XCTAssertEqual(metric["name"] as? String, "val_bd_rate")
        XCTAssertEqual(metric["goal"] as? String, "min")
        XCTAssertEqual(metric["row_level"] as? Bool, false)
        let cells = try XCTUnwrap(report["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 6, "\(report["warnings"] ?? [])")
        for cell in cells { XCTAssertEqual(cell["best_epoch"] as? Int, 2, "the lowest val_bd_rate") }
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        let good = try XCTUnwrap(variants.first { $0["name"] as? String == "good" })
        XCTAssertEqual(good["verdict"] as? String, "better")
        XCTAssertEqual(try XCTUnwrap(good["delta_pp"] as? Double), -1.98, accuracy: 1e-9)
        let warnings = try XCTUnwrap(report["warnings"] as? [String])
        XCTAssertTrue(
            warnings.contains(
                "row-level tests: not available for val_bd_rate (no per-row form); seed-level statistics only"),
            "\(warnings)")
        XCTAssertFalse(
            warnings.contains { $0.contains("no predictions.h5") }, "no row form, no per-cell note: \(warnings)")

        // The tidy tables beside the report: differences in % are not points, so no `_pp`; the metric per epoch.
        let variantsCSV = try String(contentsOfFile: "\(state)/variants.csv", encoding: .utf8)
        let header = variantsCSV.split(separator: "\n").first.map { $0.split(separator: ",").map(String.init) } ?? []
        XCTAssertTrue(header.contains("delta") && !header.contains("delta_pp"), "\(header)")
        let epochsCSV = try String(contentsOfFile: "\(state)/epochs.csv", encoding: .utf8)
        let epochLines = epochsCSV.split(separator: "\n")
        XCTAssertEqual(epochLines.count, 1 + 6 * 3, epochsCSV)
        XCTAssertTrue(epochLines.first?.contains("val_bd_rate") ?? false, epochsCSV)
        let tables = directory.file("out/tables")
        let written = try AblateBinary.run(["report", "--state", state, "--tables", tables])
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertEqual(written.stdout, "", "only the tables were asked for")
        XCTAssertEqual(try String(contentsOfFile: "\(tables)/variants.csv", encoding: .utf8), variantsCSV)
        let refused = try AblateBinary.run(["report", "--state", state, "--tables", "\(state)/report.md"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--tables \(state)/report.md"), refused.stderr)
    }

    /// Lines that carry only the sweep's metric (no val_macro_f1): the worker requires that key instead (ASSIGN
    /// `metric`), the report judges on it; a line without it fails the attempt with its line number.
    func testLinesNeedOnlyTheSweepsMetric() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "rmse.sh",
            text: """
                #!/bin/sh
                out="$1"
                if [ "$2" = broken ]; then echo '{"epoch": 1, "val_macro_f1": 0.5}' >> "$out/metrics.jsonl"; exit 0; fi
                if [ "$2" = good ]; then r=3.$ABLATE_SEED; else r=5.$((ABLATE_SEED * 2)); fi
                echo "{\\"epoch\\": 1, \\"val_rmse\\": 9.0}" >> "$out/metrics.jsonl"
                echo "{\\"epoch\\": 2, \\"val_rmse\\": $r}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "rmse.yaml",
            text: """
                name: rmse
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2, 3]
                max_attempts: 1
                train: {epochs: 2, command: [/bin/sh, "\(directory.file("rmse.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  good: {loss: poly, epsilon: 1.0}
                  broken: {loss: focal}
                significance: {resamples: 200}
                metric: {name: val_rmse, goal: min, unit: levels, threshold: 0.5}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("rmse.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 1, "the broken variant's cells failed: \(run.stderr)")
        XCTAssertTrue(run.stdout.contains("missing 'val_rmse' (the sweep's metric)"), run.stdout)
        let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("| good |") }, run.stdout)
        XCTAssertTrue(row.contains("**better**"), String(row))
        let cells = try String(contentsOfFile: "\(state)/cells.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(cells.count, 1 + 6, "base and good, 3 seeds each")
    }

    /// Adaptive seeds follow the metric: macro-F1 is the same for both variants (on it, `good` would stay
    /// undecided and collect seeds up to `max`), but val_bd_rate decides `good` better at the 2 initial seeds, so the
    /// coordinator adds no seed and `ablate status` says so.
    func testAdaptiveSeedsStopOnTheMetricsVerdict() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                if [ "$2" = good ]; then bd=2.$((10 + ABLATE_SEED)); else bd=4.$((10 + ABLATE_SEED * 2)); fi
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5, \\"val_bd_rate\\": $bd}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "adaptive.yaml",
            text: """
                name: bd-adaptive
                dataset: \(dataset)
                baseline: base
                seeds: {initial: [1, 2], max: 4}
                train: {epochs: 1, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  good: {loss: poly, epsilon: 1.0}
                significance: {resamples: 200}
                metric: {name: val_bd_rate, goal: min, unit: "%", threshold: 0.5}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("adaptive.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("| good |") }, run.stdout)
        XCTAssertTrue(row.contains("| 2 |"), String(row))
        XCTAssertTrue(row.contains("**better**"), String(row))
        let status = try AblateBinary.run(["status", "--state", state])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("good: better at 2 seeds"), status.stdout)
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        XCTAssertEqual((report["cells"] as? [Any])?.count, 4, "no seed added: \(report["warnings"] ?? [])")
    }
}
