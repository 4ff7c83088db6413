// SweepInputsTests: `inputs:` of command variants — parsing, overrides, checks on disk at their lines, optional dataset, cell ids.
import CoordinatorKit
import Foundation
import RunSpec
import TestSupport
import TransferKit
import XCTest

final class SweepInputsTests: XCTestCase {
    private func problems(_ text: String, directory: String = "/w") -> SweepError? {
        do {
            _ = try Sweep.parse(text: text, sourceName: "s.yaml", workingDirectory: directory)
            return nil
        } catch let error as SweepError {
            return error
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testInputsAreReadMergedByNameAndResolvedAgainstTheSweepDirectory() throws {
        let sweep = try Sweep.parse(
            text: """
                name: i
                baseline: a
                seeds: [1]
                train: {command: [sh, run.sh], inputs: {cfg: conf/a.json, data: /abs/data}}
                variants:
                  a: {}
                  b: {inputs: {cfg: conf/b.json, extra: x.txt}}
                  a_aa: {replica_of: a}
                """, workingDirectory: "/w")
        XCTAssertNil(sweep.datasetPath, "a command-only sweep needs no dataset")
        XCTAssertEqual(sweep.variant(named: "a")?.inputs.map(\.name), ["cfg", "data"])
        XCTAssertEqual(sweep.variant(named: "a")?.inputs.map(\.path), ["/w/conf/a.json", "/abs/data"])
        XCTAssertEqual(sweep.variant(named: "b")?.inputs.map(\.name), ["cfg", "data", "extra"])
        XCTAssertEqual(sweep.variant(named: "b")?.inputs.map(\.path), ["/w/conf/b.json", "/abs/data", "/w/x.txt"])
        XCTAssertEqual(sweep.variant(named: "a_aa")?.inputs, sweep.variant(named: "a")?.inputs)
        XCTAssertEqual(sweep.variant(named: "b")?.inputs.last?.location.line, 7)
    }

    func testBadInputsAreOneLineEachAtTheirLine() throws {
        let error = try XCTUnwrap(
            problems(
                """
                name: i
                baseline: a
                seeds: [1]
                variants:
                  a: {command: [sh, run.sh], inputs: {Bad: x, ok: [1, 2]}}
                  b: {command: [sh, run.sh], inputs: {"9x": y, fine: ""}}
                """))
        let inputs = error.problems.filter { $0.key.contains(".inputs") }
        XCTAssertEqual(inputs.count, 4, error.description)
        XCTAssertEqual(Set(inputs.map(\.line)), [5, 6], error.description)
        XCTAssertTrue(error.description.contains("s.yaml:5:"), error.description)
        XCTAssertTrue(error.description.contains("[a-z][a-z0-9_]{0,31}"), error.description)
    }

    func testNativeVariantsTakeNoInputsAndStillNeedADataset() throws {
        let error = try XCTUnwrap(
            problems(
                """
                name: i
                baseline: a
                seeds: [1]
                stage1_checkpoint: s1.h5
                train: {inputs: {cfg: c.json}}
                variants:
                  a: {command: [sh, run.sh]}
                  b: {loss: focal}
                """))
        XCTAssertEqual(error.problems.map(\.key), ["train.inputs"], error.description)
        XCTAssertTrue(error.description.contains("variant 'b' runs the native trainer"), error.description)
        let native = try XCTUnwrap(
            problems(
                """
                name: i
                baseline: a
                seeds: [1]
                stage1_checkpoint: s1.h5
                variants:
                  a: {command: [sh, run.sh], inputs: {cfg: c.json}}
                  b: {loss: focal}
                """))
        XCTAssertEqual(native.problems.map(\.key), ["dataset"], native.description)
        XCTAssertTrue(native.description.contains("required unless every variant runs a command"), native.description)
    }

    func testFilesAreCheckedOnDiskWhenPlanned() throws {
        let directory = TemporaryDirectory()
        directory.write("cfg.json", text: "{}")
        directory.write("tree/a.txt", text: "a")
        XCTAssertEqual(symlink("/etc", directory.file("tree/link")), 0)
        let sweep = try Sweep.parse(
            text: """
                name: i
                baseline: a
                seeds: [1]
                variants:
                  a: {command: [sh, run.sh], inputs: {cfg: cfg.json, missing: nope.txt}}
                  b: {command: [sh, run2.sh], inputs: {tree: tree, dev: /dev/null}}
                """, sourceName: "s.yaml", workingDirectory: directory.path)
        XCTAssertThrowsError(try InputFiles.records(for: sweep)) { error in
            let text = "\(error)"
            XCTAssertEqual((error as? SweepError)?.problems.count, 3, text)
            XCTAssertTrue(text.contains("s.yaml:5:"), text)
            XCTAssertTrue(text.contains("nope.txt: no such file or directory"), text)
            XCTAssertTrue(text.contains("is a symbolic link"), text)
            XCTAssertTrue(text.contains("/dev/null: not a regular file or directory"), text)
        }
    }

    func testInputsEnterTheCellIdsAndNoInputsKeepTheOldIds() throws {
        let directory = TemporaryDirectory()
        directory.write("cfg.json", text: "{}")
        directory.write("tree/sub/a.txt", text: "a")
        let text = """
            name: i
            dataset: d.h5
            baseline: a
            seeds: [1]
            variants:
              a: {command: [sh, run.sh], inputs: {cfg: cfg.json, tree: tree}}
              b: {command: [sh, run2.sh]}
            """
        let sweep = try Sweep.parse(text: text, workingDirectory: directory.path)
        let dataset = String(repeating: "d", count: 64)
        let inputs = try InputFiles.records(for: sweep)
        XCTAssertEqual(inputs["a"]?.map(\.kind), [.file, .directory])
        XCTAssertNil(inputs["b"])
        let plan = try SweepPlan.make(sweep, datasetContentHash: dataset, stage1CheckpointSHA256: nil, inputs: inputs)
        let bare = try SweepPlan.make(sweep, datasetContentHash: dataset, stage1CheckpointSHA256: nil)
        XCTAssertNotEqual(plan.cells[0].id, bare.cells[0].id, "inputs enter the id")
        XCTAssertEqual(plan.cells[1].id, bare.cells[1].id, "a variant without inputs keeps its id")
        XCTAssertEqual(plan.cells[0].inputs.map(\.name), ["cfg", "tree"])

        directory.write("tree/sub/a.txt", text: "b")
        let changed = try SweepPlan.make(
            sweep, datasetContentHash: dataset, stage1CheckpointSHA256: nil, inputs: try InputFiles.records(for: sweep))
        XCTAssertNotEqual(changed.cells[0].id, plan.cells[0].id, "a changed byte in a directory input gives new cells")
        let before = try plan.cells.enumerated().map { index, cell in
            var record = try SweepPlan.record(cell, position: index)
            record.state = .done
            return record
        }
        let identity = [plan.cells[0].id: CellInput.identityJSON(plan.cells[0].inputs)]
        XCTAssertEqual(
            InputPlanning.changes(changed, before: before, inputs: identity), ["variant a: inputs changed, 1 new cell"])
        XCTAssertEqual(InputPlanning.changes(plan, before: before, inputs: identity), [])
    }

    func testADatasetlessCellIdWritesDatasetNull() throws {
        let text = try CellIdentity.text(
            config: TrainingConfig(stage: .stage2), datasetContentHash: nil, stage1: nil, command: ["sh"])
        XCTAssertTrue(text.contains("\"dataset\":null"), text)
    }
}
