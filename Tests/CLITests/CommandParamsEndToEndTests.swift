// CommandParamsEndToEndTests: `ablate local` on two command variants that differ only in a param reaches the command three ways.
import Foundation
import TestSupport
import XCTest

/// A `params: {dropout: …}` sweep: the stub command checks `{dropout}` in its argv, `$ABLATE_PARAM_DROPOUT` and
/// `$ABLATE_OUT/params.json` agree (else it fails), and its metrics depend on the value.
final class CommandParamsEndToEndTests: XCTestCase {
    func testAParamReachesTheCommandAndSeparatesTheCells() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                dropout="$1"
                out="$2"
                [ "$ABLATE_PARAM_DROPOUT" = "$dropout" ] || { echo "env $ABLATE_PARAM_DROPOUT vs argv $dropout"; exit 3; }
                json=$(cat "$ABLATE_OUT/params.json")
                [ "$json" = "{\\"dropout\\":$dropout}" ] || { echo "params.json $json"; exit 4; }
                case "$dropout" in
                  0.1) base=500 ;;
                  0.3) base=700 ;;
                  *) echo "unexpected dropout $dropout"; exit 5 ;;
                esac
                top=$((base + ABLATE_SEED * 10))
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.$((top - 100)), \\"dropout\\": $ABLATE_PARAM_DROPOUT}" >> "$out/metrics.jsonl"
                echo "{\\"epoch\\": 2, \\"val_macro_f1\\": 0.$top, \\"dropout\\": $ABLATE_PARAM_DROPOUT}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "params.yaml",
            text: """
                name: params-e2e
                dataset: \(dataset)
                baseline: d1
                seeds: [1, 2]
                train: {epochs: 2, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{dropout}", "{out}"]}
                variants:
                  d1: {params: {dropout: 0.1}}
                  d3: {params: {dropout: 0.3}}
                significance: {threshold_pp: 1.0, resamples: 200}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("params.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)

        for (variant, base) in [("d1", 0.5), ("d3", 0.7)] {
            for seed in [1, 2] {
                let metrics = try String(
                    contentsOfFile: "\(state)/runs/\(variant)/seed-\(seed)/metrics.jsonl", encoding: .utf8)
                XCTAssertTrue(metrics.contains("\"dropout\": \(variant == "d1" ? "0.1" : "0.3")"), metrics)
                XCTAssertTrue(metrics.contains("\"val_macro_f1\": \(base + Double(seed) * 0.01)"), metrics)
            }
        }
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        let cells = try XCTUnwrap(report["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 4, "\(report["warnings"] ?? [])")
        XCTAssertEqual(Set(cells.compactMap { $0["cell_id"] as? String }).count, 4, "every cell has its own id")
        for cell in cells {
            let variant = try XCTUnwrap(cell["variant"] as? String)
            let seed = try XCTUnwrap((cell["seed"] as? String).flatMap(Double.init))
            let best = try XCTUnwrap(cell["best"] as? [String: Any])
            let expected = (variant == "d1" ? 0.5 : 0.7) + seed * 0.01
            XCTAssertEqual(try XCTUnwrap(best["macro_f1"] as? Double), expected, accuracy: 1e-9)
            let params = try XCTUnwrap(cell["params"] as? [String: Any])
            XCTAssertEqual(params["dropout"] as? Double, variant == "d1" ? 0.1 : 0.3)
        }
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.compactMap { $0["name"] as? String }, ["d1", "d3"])
        XCTAssertEqual(variants.first { $0["name"] as? String == "d3" }?["verdict"] as? String, "better")
    }
}
