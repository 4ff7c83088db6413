// CommandReportEndToEndTests: `ablate local` on a sweep of command variants ends with verdicts and report.json cells.
import Foundation
import TestSupport
import XCTest

/// Command cells (docs/bring-your-own-trainer.md) reach the report: a /bin/sh stub writes `metrics.jsonl` and no
/// `predictions.h5`, so each comparison is judged on its seed component alone.
final class CommandReportEndToEndTests: XCTestCase {
    func testCommandVariantsGetSeedsOnlyVerdictsAndReportCells() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        // Epoch 2 is the best (highest val_macro_f1); `good` is about 10.6 pp better on every seed, the seeds differ.
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                if [ "$2" = good ]; then top=$((600 + ABLATE_SEED * 13)); else top=$((500 + ABLATE_SEED * 10)); fi
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.$((top - 100)), \\"val_loss\\": 1.0}" >> "$out/metrics.jsonl"
                echo "{\\"epoch\\": 2, \\"val_macro_f1\\": 0.$top, \\"val_accuracy\\": 0.8, \\"val_loss\\": 0.7}" >> "$out/metrics.jsonl"
                echo "{\\"epoch\\": 3, \\"val_macro_f1\\": 0.$((top - 50))}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "commands.yaml",
            text: """
                name: command-report
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2, 3]
                train: {epochs: 3, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  good: {loss: poly, epsilon: 1.0}
                significance: {threshold_pp: 1.0, resamples: 200}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("commands.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("| good |") }, run.stdout)
        XCTAssertTrue(row.contains("**better**"), String(row))
        XCTAssertTrue(row.contains("— (seeds only)"), String(row))
        XCTAssertFalse(run.stdout.contains("not tested"), run.stdout)
        XCTAssertTrue(run.stdout.contains("seeds only, no row component"), run.stdout)

        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        let cells = try XCTUnwrap(report["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 6, "\(report["warnings"] ?? [])")
        for cell in cells {
            XCTAssertEqual(cell["best_epoch"] as? Int, 2)
            XCTAssertEqual(cell["epochs_run"] as? Int, 3)
            let best = try XCTUnwrap(cell["best"] as? [String: Any])
            let seed = try XCTUnwrap((cell["seed"] as? String).flatMap(Double.init))
            let expected = cell["variant"] as? String == "good" ? 0.6 + seed * 0.013 : 0.5 + seed * 0.01
            XCTAssertEqual(try XCTUnwrap(best["macro_f1"] as? Double), expected, accuracy: 1e-9)
            XCTAssertEqual(best["accuracy"] as? Double, 0.8)
            XCTAssertTrue(best["macro_recall"] is NSNull, "not reported by the command")
        }
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        let good = try XCTUnwrap(variants.first { $0["name"] as? String == "good" })
        XCTAssertEqual(good["verdict"] as? String, "better")
        XCTAssertEqual(good["rows_tested"] as? Bool, false)
        XCTAssertEqual(good["row_variance_pp2"] as? Double, 0)
        XCTAssertEqual(try XCTUnwrap(good["delta_pp"] as? Double), 10.6, accuracy: 1e-9)
        let warnings = try XCTUnwrap(report["warnings"] as? [String])
        XCTAssertFalse(warnings.contains { $0.contains("left out") }, "\(warnings)")
    }
}
