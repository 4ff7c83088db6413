// CodeIdentityTests: a command cell's code enters its id (same code, same id; one byte changed, a new id); others keep theirs.
import AblateSupport
import CoordinatorKit
import Foundation
import RunSpec
import TestSupport
import XCTest

final class CodeIdentityTests: XCTestCase {
    static let dataset = String(repeating: "d", count: 64)

    static let text = """
        name: c
        dataset: d.h5
        stage1_checkpoint: s1.h5
        baseline: native
        seeds: [1, 2]
        variants:
          native: {loss: ce}
          cmd: {loss: focal, command: [python3, train.py, "{seed}"]}
          off: {loss: poly, command: [python3, train.py, "{seed}"], code: []}
        """

    func plan(_ directory: TemporaryDirectory) throws -> SweepPlan {
        let sweep = try Sweep.parse(text: Self.text, sourceName: "c.yaml", workingDirectory: directory.path)
        let code = try CodeFiles.records(for: sweep, sweepDirectory: directory.path, git: { _, _ in (nil, nil) })
        return try SweepPlan.make(
            sweep, datasetContentHash: Self.dataset, stage1CheckpointSHA256: Self.dataset, code: code)
    }

    func ids(_ plan: SweepPlan) -> [String: String] {
        Dictionary(uniqueKeysWithValues: plan.cells.map { ("\($0.variant) \($0.seed)", $0.id) })
    }

    func testTheScriptsContentEntersTheIdOfItsCellsOnly() throws {
        let directory = TemporaryDirectory()
        let sweep = try Sweep.parse(text: Self.text, sourceName: "c.yaml", workingDirectory: directory.path)
        let before = ids(
            try SweepPlan.make(sweep, datasetContentHash: Self.dataset, stage1CheckpointSHA256: Self.dataset))
        XCTAssertEqual(ids(try plan(directory)), before, "without train.py no cell has code: every id as before")

        directory.write("train.py", text: "print('v1')\n")
        let first = try plan(directory)
        let firstIDs = ids(first)
        XCTAssertEqual(ids(try plan(directory)), firstIDs, "the same code gives the same ids")
        for key in ["native 1", "native 2", "off 1", "off 2"] { XCTAssertEqual(firstIDs[key], before[key], key) }
        for key in ["cmd 1", "cmd 2"] { XCTAssertNotEqual(firstIDs[key], before[key], key) }
        let cell = try XCTUnwrap(first.cells.first { $0.variant == "cmd" && $0.seed == 1 })
        let code = try XCTUnwrap(cell.code)
        XCTAssertEqual(code.files, [CodeFile(path: "train.py", sha256: SHA256Hex.of(Array("print('v1')\n".utf8)))])
        let expected = try SweepPlan.cellID(
            config: cell.config, datasetContentHash: Self.dataset, stage1: Self.dataset, command: cell.command,
            extras: ["code": "\"\(code.sha256)\""])
        XCTAssertEqual(cell.id, expected, "the id is the identity text with \"code\":\"<hash>\"")

        directory.write("train.py", text: "print('v2')\n")
        let second = ids(try plan(directory))
        for key in ["native 1", "native 2", "off 1", "off 2"] { XCTAssertEqual(second[key], before[key], key) }
        for key in ["cmd 1", "cmd 2"] { XCTAssertNotEqual(second[key], firstIDs[key], "one byte changed: \(key)") }
    }
}
