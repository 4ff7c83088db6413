// FigureFilesEndToEndTests: `ablate report --figures DIR` writes standalone SVGs with the CSV of their data, or nothing.
import Foundation
import TestSupport
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A sweep of command cells (a /bin/sh stub writing losses and a learning rate) reported with `--figures`.
final class FigureFilesEndToEndTests: XCTestCase {
    /// Runs the three-variant sweep once and returns its state directory.
    static func sweep(in directory: TemporaryDirectory) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                case "$2" in good) top=$((600 + ABLATE_SEED * 13));; bad) top=$((400 + ABLATE_SEED * 7));; *) top=$((500 + ABLATE_SEED * 10));; esac
                for e in 1 2 3; do
                  echo "{\\"epoch\\": $e, \\"val_macro_f1\\": 0.$((top - 100 / e)), \\"val_loss\\": 0.$((90 - 10 * e)), \\"train_loss\\": 0.$((80 - 15 * e)), \\"lr\\": 0.00$((4 - e))}" >> "$out/metrics.jsonl"
                done

                """)
        directory.write(
            "commands.yaml",
            text: """
                name: figures
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2, 3]
                train: {epochs: 3, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  good: {loss: poly, epsilon: 1.0}
                  bad: {loss: focal, gamma: 2.0}
                significance: {threshold_pp: 1.0, resamples: 200}

                """)
        let state = directory.file("state")
        let run = try AblateBinary.run([
            "local", "--sweep", directory.file("commands.yaml"), "--state", state, "--workers", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        return state
    }

    func testFiguresAreStandaloneSVGsWithTheirData() throws {
        let directory = TemporaryDirectory()
        let state = try Self.sweep(in: directory)
        let figures = directory.file("out/nested/figures")
        let run = try AblateBinary.run(["report", "--state", state, "--figures", figures])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "", "--figures alone writes only the figures")
        XCTAssertTrue(run.stderr.contains("per-class-delta not drawn: "), run.stderr)
        XCTAssertTrue(run.stderr.contains("confusion not drawn: "), run.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: figures).sorted()
        XCTAssertEqual(
            names,
            [
                "forest.csv", "forest.svg", "learning-curves.csv", "learning-curves.svg", "learning-rate.csv",
                "learning-rate.svg",
            ])
        for name in names where name.hasSuffix(".svg") {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(figures)/\(name)"))
            let document = try XMLDocument(data: data)
            let root = try XCTUnwrap(document.rootElement())
            XCTAssertEqual(root.name, "svg", name)
            XCTAssertEqual(root.attribute(forName: "xmlns")?.stringValue ?? root.uri, "http://www.w3.org/2000/svg")
            let attributes = Dictionary(
                (root.attributes ?? []).compactMap { node in node.name.map { ($0, node.stringValue ?? "") } },
                uniquingKeysWith: { first, _ in first })
            for attribute in ["width", "height", "viewBox", "font-family"] {
                XCTAssertFalse((attributes[attribute] ?? "").isEmpty, "\(name): \(attribute) in \(attributes)")
            }
            XCTAssertFalse(root.elements(forName: "title").isEmpty, name)
            XCTAssertFalse(root.elements(forName: "desc").isEmpty, name)
        }
        func rows(_ name: String) throws -> [[String]] {
            try String(contentsOfFile: "\(figures)/\(name)", encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
        }
        // 9 cells × 3 epochs per series, and 3 means × 3 epochs; series val_macro_f1, train_loss, val_loss.
        let curves = try rows("learning-curves.csv")
        XCTAssertEqual(curves.first, ["variant", "seed", "epoch", "series", "value", "unit"])
        XCTAssertEqual(curves.count - 1, 3 * (9 * 3 + 3 * 3))
        let good1 = try XCTUnwrap(
            curves.first { $0[0] == "good" && $0[1] == "1" && $0[2] == "2" && $0[3] == "val_macro_f1" })
        XCTAssertEqual(try XCTUnwrap(Double(good1[4])), 100 * 0.563, accuracy: 1e-9, "×100, in %")
        XCTAssertEqual(good1[5], "%")
        let rates = try rows("learning-rate.csv")
        XCTAssertEqual(rates.first, ["variant", "seed", "epoch", "group", "value", "unit"])
        XCTAssertEqual(rates.count - 1, 9 * 3)
        XCTAssertTrue(rates.contains { $0[2] == "3" && $0[4] == "0.001" })

        // The forest plot's data are the report's comparisons.
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        let forest = try rows("forest.csv")
        XCTAssertEqual(forest.first?.prefix(5), ["variant", "verdict", "delta", "low", "high"])
        XCTAssertEqual(forest.dropFirst().map { $0[0] }, ["good", "bad"])
        for row in forest.dropFirst() {
            let variant = try XCTUnwrap(variants.first { $0["name"] as? String == row[0] })
            XCTAssertEqual(variant["verdict"] as? String, row[1])
            XCTAssertEqual(try XCTUnwrap(variant["delta_pp"] as? Double), try XCTUnwrap(Double(row[2])), accuracy: 1e-9)
        }

        // With --format the report goes to standard output as well.
        let both = try AblateBinary.run(["report", "--state", state, "--figures", figures, "--format", "md"])
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertTrue(both.stdout.contains("**better**"), both.stdout)
    }

    /// A `--figures` path that is a file, or lies under one, is refused in one line and nothing is written; a write
    /// that fails midway takes back the files it wrote.
    func testBadFiguresDirectoryLeavesNothing() throws {
        let directory = TemporaryDirectory()
        let state = try Self.sweep(in: directory)
        directory.write("plain", text: "keep\n")
        for target in [directory.file("plain"), directory.file("plain/sub")] {
            let out = directory.file("report.html")
            let run = try AblateBinary.run([
                "report", "--state", state, "--figures", target, "--format", "html", "--out", out,
            ])
            XCTAssertNotEqual(run.status, 0, target)
            let lines = run.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains("--figures: "), run.stderr)
            XCTAssertTrue(run.stderr.contains("not a directory"), run.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no report written")
            XCTAssertEqual(try String(contentsOfFile: directory.file("plain"), encoding: .utf8), "keep\n")
        }
        // A write that fails midway (forest.svg is a directory there) removes the figures written before it.
        let existing = directory.file("existing")
        try FileManager.default.createDirectory(atPath: existing + "/forest.svg", withIntermediateDirectories: true)
        let midway = try AblateBinary.run(["report", "--state", state, "--figures", existing])
        XCTAssertNotEqual(midway.status, 0)
        XCTAssertEqual(midway.stderr.split(separator: "\n").count, 1, midway.stderr)
        XCTAssertTrue(midway.stderr.contains("forest.svg"), midway.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: existing), ["forest.svg"])
    }
}
