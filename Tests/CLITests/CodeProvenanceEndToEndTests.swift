// CodeProvenanceEndToEndTests: `ablate local` runs a stub script, the script is edited, and the next run plans new cells and says why.
import AblateSupport
import Foundation
import TestSupport
import XCTest

/// The command's script lies beside the sweep file, so it is the variants' code by default: its content enters
/// the cells' ids, and the report shows which code each variant ran.
final class CodeProvenanceEndToEndTests: XCTestCase {
    static func script(_ base: Int) -> String {
        """
        #!/bin/sh
        out="$1"
        top=$((\(base) + ABLATE_SEED * 10))
        echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.$((top - 100))}" >> "$out/metrics.jsonl"
        echo "{\\"epoch\\": 2, \\"val_macro_f1\\": 0.$top}" >> "$out/metrics.jsonl"

        """
    }

    func testEditingTheScriptPlansNewCellsAndTheReportShowsTheCode() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write("trainer.sh", text: Self.script(500))
        directory.write(
            "code.yaml",
            text: """
                name: code-e2e
                dataset: \(dataset)
                baseline: a
                seeds: [1, 2]
                train: {epochs: 2, command: [/bin/sh, trainer.sh, "{out}"]}
                variants:
                  a: {}
                  b: {loss: focal}
                significance: {resamples: 200}

                """)
        // In a git work tree (when git is installed) the commit and the dirty flag reach the report too.
        func git(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
            let result = try Subprocess.capture(
                "/usr/bin/env",
                [
                    "git", "-C", directory.path, "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                    "commit.gpgsign=false",
                ]
                    + arguments)
            return (result.status, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let inGit =
            try git(["init", "-q"]).status == 0 && git(["add", "trainer.sh"]).status == 0
            && git(["commit", "-q", "-m", "one"]).status == 0
        let head = inGit ? try git(["rev-parse", "HEAD"]).stdout : nil
        let state = directory.file("state")
        // From the sweep's directory: the workers run the command in their working directory, where trainer.sh is.
        let sweepPath = directory.file("code.yaml")
        func run() throws -> String {
            let result = try Subprocess.capture(
                "/bin/sh",
                [
                    "-c", "cd \"$0\" && exec \"$1\" local --sweep \"$2\" --state \"$3\" --workers 2", directory.path,
                    AblateBinary.path, sweepPath, state,
                ])
            XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
            return result.stdout
        }
        let first = try run()
        XCTAssertTrue(first.contains("sweep code-e2e: 4 cells (4 new, 0 done)"), first)
        XCTAssertFalse(first.contains("code changed"), first)
        let firstIDs = try cellIDs(state)
        XCTAssertEqual(firstIDs.count, 4)
        let again = try run()
        XCTAssertTrue(again.contains("sweep code-e2e: 4 cells (0 new, 4 done)"), again)

        directory.write("trainer.sh", text: Self.script(600))
        let second = try run()
        XCTAssertTrue(second.contains("variant a: code changed, 2 new cells"), second)
        XCTAssertTrue(second.contains("variant b: code changed, 2 new cells"), second)
        XCTAssertTrue(second.contains("sweep code-e2e: 4 cells (4 new, 0 done)"), second)
        XCTAssertTrue(Set(try cellIDs(state)).isDisjoint(with: firstIDs))

        let hash = try SHA256Hex.ofFile(directory.file("trainer.sh"))
        let codeHash = SHA256Hex.of(Array("\(hash)  trainer.sh\n".utf8))
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
                as? [String: Any])
        let cells = try XCTUnwrap(report["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 4)
        for cell in cells {
            let provenance = try XCTUnwrap(cell["provenance"] as? [String: Any])
            let code = try XCTUnwrap(provenance["code"] as? [String: Any], "\(provenance)")
            XCTAssertEqual(code["sha256"] as? String, codeHash)
            let files = try XCTUnwrap(code["files"] as? [[String: Any]])
            XCTAssertEqual(files.map { $0["path"] as? String }, ["trainer.sh"])
            XCTAssertEqual(files.first?["sha256"] as? String, hash)
            if let head {
                XCTAssertEqual(code["commit"] as? String, head)
                XCTAssertEqual(code["dirty"] as? Bool, true, "the script was edited after the commit")
            }
            let best = try XCTUnwrap(cell["best"] as? [String: Any])
            XCTAssertGreaterThan(try XCTUnwrap(best["macro_f1"] as? Double), 0.6, "the edited script ran")
        }
        let markdown = try String(contentsOfFile: "\(state)/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Code"), markdown)
        XCTAssertTrue(markdown.contains("| a | `\(codeHash.prefix(12))` |"), markdown)
    }

    /// A state directory of the release before code hashing keeps its done cells (their code assumed to be the
    /// script's content at that first planning); an edit of the script afterwards plans new cells.
    func testAnEarlierReleasesCellsAreKeptUntilTheScriptChanges() throws {
        let directory = TemporaryDirectory()
        let copy = directory.file("release-state")
        try FileManager.default.copyItem(atPath: ReleaseStateResumeTests.fixture, toPath: copy)
        func run() throws -> String {
            let result = try Subprocess.capture(
                "/bin/sh",
                ["-c", "cd \"$0\" && exec \"$1\" local --sweep sweep.yaml --state state", copy, AblateBinary.path])
            XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
            return result.stdout
        }
        let first = try run()
        XCTAssertTrue(first.contains("sweep resume-fixture: 4 cells (0 new, 4 done)"), first)
        XCTAssertTrue(
            first.contains(
                "variant base: 2 done cells planned before code was hashed kept (their code assumed to be today's)"),
            first)
        let again = try run()
        XCTAssertTrue(again.contains("sweep resume-fixture: 4 cells (0 new, 4 done)"), again)
        XCTAssertFalse(again.contains("kept"), again)

        let script = try String(contentsOfFile: "\(copy)/fake-trainer.sh", encoding: .utf8)
        try (script + "\n# edited\n").write(toFile: "\(copy)/fake-trainer.sh", atomically: true, encoding: .utf8)
        let edited = try run()
        XCTAssertTrue(edited.contains("variant base: code changed, 2 new cells"), edited)
        XCTAssertTrue(edited.contains("variant faster: code changed, 2 new cells"), edited)
        XCTAssertTrue(edited.contains("sweep resume-fixture: 4 cells (4 new, 0 done)"), edited)
    }

    /// The ids of the cells in the latest report (the planned cells that finished).
    func cellIDs(_ state: String) throws -> [String] {
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json")))
        let cells = (report as? [String: Any])?["cells"] as? [[String: Any]] ?? []
        return cells.compactMap { $0["cell_id"] as? String }
    }
}
