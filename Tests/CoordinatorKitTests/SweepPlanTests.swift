import AblateSupport
// SweepPlanTests: cell ids name a cell's resolved inputs, so the same sweep resumes and a changed variant is new.
import CoordinatorKit
import RunSpec
import XCTest

final class SweepPlanTests: XCTestCase {
    let datasetHash = String(repeating: "d", count: 64)
    let stage1Hash = String(repeating: "1", count: 64)

    func plan(_ text: String, stage1Hash: String? = nil) throws -> SweepPlan {
        try SweepPlan.make(
            Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: datasetHash,
            stage1CheckpointSHA256: stage1Hash ?? self.stage1Hash)
    }

    func ids(_ plan: SweepPlan) -> [String: String] {
        Dictionary(uniqueKeysWithValues: plan.cells.map { ("\($0.variant)/\($0.seed)", $0.id) })
    }

    func testCellsAreVariantsInFileOrderTimesSeeds() throws {
        let plan = try plan(issueExampleSweep)
        XCTAssertNil(plan.stage1Cell)
        XCTAssertEqual(plan.cells.count, 15)
        XCTAssertEqual(
            plan.cells.prefix(4).map { "\($0.variant)/\($0.seed)" },
            ["cb_focal/42", "cb_focal/43", "cb_focal/44", "focal_gamma3/42"])
        for cell in plan.cells {
            XCTAssertEqual(cell.id.count, 64)
            XCTAssertTrue(cell.id.allSatisfy(\.isHexDigit))
            XCTAssertEqual(cell.config.seed, cell.seed)
            XCTAssertEqual(cell.stage, .stage2)
            XCTAssertNil(cell.dependsOn)
        }
        XCTAssertEqual(Set(plan.cells.map(\.id)).count, 15)
        XCTAssertEqual(plan.cells(ofVariant: "poly").map(\.seed), [42, 43, 44])
        let poly = try XCTUnwrap(plan.cells(ofVariant: "poly").first)
        XCTAssertEqual(try XCTUnwrap(poly.config.epsilon), 1.0, accuracy: 1e-12)
        XCTAssertEqual(plan.cell(id: poly.id), poly)
    }

    func testIdIsTheDocumentedHash() throws {
        let plan = try plan(issueExampleSweep)
        let cell = plan.cells[0]
        let text =
            "{\"command\":null,\"config\":\(try cell.config.canonicalJSON()),\"dataset\":\"\(datasetHash)\","
            + "\"stage1\":\"\(stage1Hash)\"}"
        XCTAssertEqual(cell.id, SHA256Hex.of(Array(text.utf8)))
        let withCommand = try SweepPlan.cellID(
            config: cell.config, datasetContentHash: datasetHash, stage1: nil, command: ["run", "a \"b\"\n"])
        let commandText =
            "{\"command\":[\"run\",\"a \\\"b\\\"\\u000a\"],\"config\":\(try cell.config.canonicalJSON()),"
            + "\"dataset\":\"\(datasetHash)\",\"stage1\":null}"
        XCTAssertEqual(withCommand, SHA256Hex.of(Array(commandText.utf8)))
    }

    func testIdsAreStableAcrossParsesKeyOrderAndLayout() throws {
        let reordered = """
            # the same sweep, keys in another order, block style, other number spellings
            significance:
              threshold_pp: 1
            variants:
              cb_focal:
                beta: 0.9999
                gamma: 2
                loss: cb_focal
              focal_gamma3: {gamma: 3.0, loss: cb_focal}
              poly: {epsilon: 1, loss: poly}
              asymmetric: {gamma_neg: 4.0, gamma_pos: 2.0, loss: asymmetric}
              focal_smoothing: {smoothing: 0.10, loss: focal_smoothing, gamma: 2.0}
            train:
              backbone_bn: eval
              lr_head: 1.0e-4
              lr_adapter: 1e-3
              batch_size: 128
              epochs: 50
            seeds:
              - 42
              - 43
              - 44
            baseline: poly
            stage1_checkpoint: "runs/stage1/best.h5"
            dataset: data/block16.h5
            name: "exp04-loss-ablation"
            """
        let first = try plan(issueExampleSweep)
        XCTAssertEqual(try plan(issueExampleSweep).cells, first.cells)
        XCTAssertEqual(ids(try plan(reordered)), ids(first))
    }

    func testChangedOverrideChangesOnlyThatVariantsIds() throws {
        let before = ids(try plan(issueExampleSweep))
        let changed = issueExampleSweep.replacingOccurrences(
            of: "{loss: poly, epsilon: 1.0}", with: "{loss: poly, epsilon: 2.0}")
        let after = ids(try plan(changed))
        XCTAssertEqual(Set(after.keys), Set(before.keys))
        for (cell, id) in before {
            if cell.hasPrefix("poly/") {
                XCTAssertNotEqual(after[cell], id, cell)
            } else {
                XCTAssertEqual(after[cell], id, cell)
            }
        }
        // Names, the baseline and the report's settings do not enter ids; the shared settings do.
        let renamed =
            issueExampleSweep
            .replacingOccurrences(of: "  poly: ", with: "  poly1: ")
            .replacingOccurrences(of: "baseline: cb_focal", with: "baseline: asymmetric")
            .replacingOccurrences(of: "threshold_pp: 1.0", with: "threshold_pp: 2.5")
        XCTAssertEqual(Set(try plan(renamed).cells.map(\.id)), Set(before.values))
        let shared = issueExampleSweep.replacingOccurrences(of: "epochs: 50", with: "epochs: 40")
        XCTAssertTrue(Set(try plan(shared).cells.map(\.id)).isDisjoint(with: Set(before.values)))
        let otherStage1 = try plan(issueExampleSweep, stage1Hash: String(repeating: "2", count: 64))
        XCTAssertTrue(Set(otherStage1.cells.map(\.id)).isDisjoint(with: Set(before.values)))
    }

    func testStage1JobIsADependencyOfEveryCell() throws {
        let text = issueExampleSweep.replacingOccurrences(
            of: "stage1_checkpoint: runs/stage1/best.h5", with: "stage1: {epochs: 30, seed: 42}")
        let plan = try plan(text, stage1Hash: nil)
        let job = try XCTUnwrap(plan.stage1Cell)
        XCTAssertEqual(plan.cells.first, job)
        XCTAssertEqual(plan.cells.count, 16)
        XCTAssertEqual(job.variant, SweepPlan.stage1VariantName)
        XCTAssertEqual(job.stage, .stage1)
        XCTAssertEqual(job.seed, 42)
        XCTAssertEqual(job.config.epochs, 30)
        XCTAssertEqual(job.config.loss, "focal")
        XCTAssertNil(job.dependsOn)
        XCTAssertEqual(
            job.id, try SweepPlan.cellID(config: job.config, datasetContentHash: datasetHash, stage1: nil, command: nil)
        )
        for cell in plan.cells.dropFirst() {
            XCTAssertEqual(cell.dependsOn, job.id)
            XCTAssertEqual(
                cell.id,
                try SweepPlan.cellID(
                    config: cell.config, datasetContentHash: datasetHash, stage1: "cell:\(job.id)", command: nil))
        }
        // A changed stage-1 job is a new job, and every cell that depends on it is new too.
        let longer = try self.plan(text.replacingOccurrences(of: "epochs: 30", with: "epochs: 31"), stage1Hash: nil)
        XCTAssertTrue(Set(longer.cells.map(\.id)).isDisjoint(with: Set(plan.cells.map(\.id))))
    }

    func testCommandAndTimeoutReachTheCells() throws {
        let text = issueExampleSweep.replacingOccurrences(
            of: "{loss: poly, epsilon: 1.0}", with: "{loss: poly, epsilon: 1.0, command: [./poly.sh], timeout_s: 60}")
        let plan = try plan(text)
        let poly = plan.cells(ofVariant: "poly")
        XCTAssertEqual(poly.map(\.command), Array(repeating: ["./poly.sh"], count: 3))
        XCTAssertEqual(poly.map(\.timeoutSeconds), [60, 60, 60])
        let before = Set(try self.plan(issueExampleSweep).cells(ofVariant: "poly").map(\.id))
        XCTAssertTrue(Set(poly.map(\.id)).isDisjoint(with: before), "the command is part of the id")
    }

    func testBadPlanInputsAreRefused() throws {
        let sweep = try Sweep.parse(text: issueExampleSweep)
        XCTAssertThrowsError(try SweepPlan.make(sweep, datasetContentHash: datasetHash, stage1CheckpointSHA256: nil)) {
            XCTAssertTrue("\($0)".contains("stage-1 checkpoint's SHA-256"), "\($0)")
        }
        XCTAssertThrowsError(try SweepPlan.make(sweep, datasetContentHash: "xyz", stage1CheckpointSHA256: stage1Hash)) {
            XCTAssertEqual($0 as? SweepPlanError, .invalidHash(what: "dataset content hash", value: "xyz"))
        }
        var pinned = sweep
        pinned.datasetSHA256 = String(repeating: "e", count: 64)
        XCTAssertThrowsError(
            try SweepPlan.make(pinned, datasetContentHash: datasetHash, stage1CheckpointSHA256: stage1Hash)
        ) {
            guard case .datasetHashMismatch? = $0 as? SweepPlanError else { return XCTFail("\($0)") }
        }
        pinned.datasetSHA256 = datasetHash
        XCTAssertNoThrow(
            try SweepPlan.make(pinned, datasetContentHash: datasetHash.uppercased(), stage1CheckpointSHA256: stage1Hash)
        )
    }

    func testNonFiniteConfigHasNoIdInsteadOfASharedOne() throws {
        // A sweep built in code skips the parser's checks: its cells must not fall back to one shared config.
        var sweep = try Sweep.parse(text: issueExampleSweep)
        sweep.variants[1].config.gamma = .infinity
        sweep.variants[2].config.lrAdapter = .infinity
        XCTAssertThrowsError(
            try SweepPlan.make(sweep, datasetContentHash: datasetHash, stage1CheckpointSHA256: stage1Hash)
        ) {
            XCTAssertEqual(
                "\($0)",
                "invalid training settings: gamma must be a finite number, found inf; the settings have no JSON form")
        }
        var config = TrainingConfig(stage: .stage2)
        config.lrHead = -.infinity
        XCTAssertThrowsError(try config.canonicalJSON())
        XCTAssertThrowsError(
            try SweepPlan.cellID(config: config, datasetContentHash: datasetHash, stage1: nil, command: nil))
    }
}
