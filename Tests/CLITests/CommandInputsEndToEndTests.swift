// CommandInputsEndToEndTests: `ablate local` on a command-only sweep without a dataset whose inputs reach the workers by transfer.
import AblateSupport
import Foundation
import TestSupport
import XCTest

/// A sweep of `/bin/sh` stubs with `inputs:` (a file, and a directory with a nested subdirectory) and no `dataset:`:
/// the workers (separate processes with their own work directories) fetch the inputs from the coordinator, the
/// command reads them through `$ABLATE_INPUT_*` and reports what it read; changing one file of the directory plans
/// new cells, and the planning says so.
final class CommandInputsEndToEndTests: XCTestCase {
    static let trainer = """
        #!/bin/sh
        [ -z "$ABLATE_DATASET" ] || { echo "a dataset without one: $ABLATE_DATASET"; exit 3; }
        [ -f "$ABLATE_INPUT_CFG" ] || { echo "no cfg file: $ABLATE_INPUT_CFG"; exit 4; }
        [ -d "$ABLATE_INPUT_TREE/sub/deeper" ] || { echo "no tree: $ABLATE_INPUT_TREE"; exit 5; }
        case "$ABLATE_INPUT_TREE" in "$SOURCE_TREE"*) echo "the command sees the coordinator's copy"; exit 6 ;; esac
        [ -x "$ABLATE_INPUT_TREE/run.sh" ] || { echo "the execute bit is lost"; exit 7; }
        [ "$(stat -c %a "$ABLATE_INPUT_TREE/top.txt")" = 444 ] || { echo "a writable input"; exit 8; }
        [ "$(stat -c %a "$ABLATE_INPUT_CFG")" = 444 ] || { echo "a writable file input"; exit 9; }
        cfg=$(sha256sum "$ABLATE_INPUT_CFG" | cut -c1-64)
        nested=$(cat "$ABLATE_INPUT_TREE/sub/deeper/nested.txt")
        count=$(find "$ABLATE_INPUT_TREE" -type f | wc -l | tr -d ' ')
        echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.$((500 + ABLATE_SEED)), \\"cfg\\": \\"$cfg\\", \\"nested\\": \\"$nested\\", \\"files\\": $count}" >> "$ABLATE_OUT/metrics.jsonl"

        """

    func testInputsReachTheCommandByTransferAndAChangedInputPlansNewCells() throws {
        let directory = TemporaryDirectory()
        directory.write("trainer.sh", text: Self.trainer)
        directory.write("conf/cfg.json", text: "{\"lr\": 0.1}\n")
        directory.write("conf/other.json", text: "{\"lr\": 0.2}\n")
        directory.write("data/top.txt", text: "top\n")
        directory.write("data/run.sh", text: "#!/bin/sh\n")
        XCTAssertEqual(chmod(directory.file("data/run.sh"), 0o755), 0)
        directory.write("data/sub/deeper/nested.txt", text: "first")
        directory.write(
            "inputs.yaml",
            text: """
                name: inputs-e2e
                baseline: a
                seeds: [1]
                train: {epochs: 1, command: [/bin/sh, "\(directory.file("trainer.sh"))"], inputs: {cfg: conf/cfg.json, tree: data}}
                variants:
                  a: {}
                  b: {inputs: {cfg: conf/other.json}}
                significance: {resamples: 200}

                """)
        let state = directory.file("state")
        defer { InputTreeCleanup.makeWritable(state) }
        func run() throws -> String {
            let result = try AblateBinary.run(
                ["local", "--sweep", directory.file("inputs.yaml"), "--state", state, "--workers", "2"],
                environment: ["SOURCE_TREE": directory.file("data")])
            XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
            return result.stdout + result.stderr
        }
        func record(_ variant: String) throws -> [String: Any] {
            let text = try String(contentsOfFile: "\(state)/runs/\(variant)/seed-1/metrics.jsonl", encoding: .utf8)
            let line = try XCTUnwrap(text.split(separator: "\n").last)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let first = try run()
        XCTAssertTrue(first.contains("sweep inputs-e2e: 2 cells (2 new, 0 done)"), first)
        XCTAssertFalse(first.contains("inputs changed"), first)
        let a = try record("a")
        XCTAssertEqual(a["cfg"] as? String, try SHA256Hex.ofFile(directory.file("conf/cfg.json")))
        XCTAssertEqual(try record("b")["cfg"] as? String, try SHA256Hex.ofFile(directory.file("conf/other.json")))
        XCTAssertEqual(a["nested"] as? String, "first")
        XCTAssertEqual(a["files"] as? Int, 3)

        directory.write("data/sub/deeper/nested.txt", text: "second")
        let second = try run()
        XCTAssertTrue(second.contains("variant a: inputs changed, 1 new cell"), second)
        XCTAssertTrue(second.contains("variant b: inputs changed, 1 new cell"), second)
        XCTAssertTrue(second.contains("sweep inputs-e2e: 2 cells (2 new, 0 done)"), second)
        XCTAssertEqual(try record("a")["nested"] as? String, "second")
    }
}

extension CommandInputsEndToEndTests {
    /// A command-only sweep may give any file as its dataset (the Ablate-format check is for native cells); a
    /// missing input is one line at its key, and nothing is left behind.
    func testAPlainDatasetReachesACommandAndAMissingInputIsOneLine() throws {
        let directory = TemporaryDirectory()
        directory.write("plain.csv", text: "a,b\n1,2\n")
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                rows=$(wc -l < "$ABLATE_DATASET" | tr -d ' ')
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5, \\"rows\\": $rows}" >> "$ABLATE_OUT/metrics.jsonl"

                """)
        let sweep = """
            name: plain
            dataset: plain.csv
            baseline: a
            seeds: [1]
            train: {command: [/bin/sh, "\(directory.file("trainer.sh"))"]}
            variants:
              a: {}

            """
        directory.write("plain.yaml", text: sweep)
        let state = directory.file("state")
        let run = try AblateBinary.run(["local", "--sweep", directory.file("plain.yaml"), "--state", state])
        XCTAssertEqual(run.status, 0, run.stderr + run.stdout)
        let metrics = try String(contentsOfFile: "\(state)/runs/a/seed-1/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"rows\": 2"), metrics)

        directory.write(
            "bad.yaml", text: sweep.replacingOccurrences(of: "a: {}", with: "a: {inputs: {cfg: nope.json}}"))
        let other = directory.file("other-state")
        let bad = try AblateBinary.run(["local", "--sweep", directory.file("bad.yaml"), "--state", other])
        XCTAssertNotEqual(bad.status, 0)
        let lines = bad.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("bad.yaml:7:"), bad.stderr)
        XCTAssertTrue(
            bad.stderr.contains("variants.a.inputs.cfg: \(directory.file("nope.json")): no such file"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: other), "nothing is left behind")
    }
}

/// Materialised inputs are read-only: the temporary directory's removal needs them writable again.
enum InputTreeCleanup {
    static func makeWritable(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { return }
        chmod(path, 0o755)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            makeWritable("\(path)/\(name)")
        }
    }
}
