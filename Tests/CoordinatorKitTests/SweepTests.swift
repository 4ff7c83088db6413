// SweepTests: sweep files parse as documented, and every problem of a bad one is reported at once with its line.
import CoordinatorKit
import RunSpec
import XCTest

/// The loss-ablation sweep of docs/sweep-format.md's first example.
let issueExampleSweep = """
    name: exp04-loss-ablation
    dataset: data/block16.h5
    stage1_checkpoint: runs/stage1/best.h5      # or  stage1: {epochs: 30, seed: 42}  to train it as a dependency
    baseline: cb_focal
    seeds: [42, 43, 44]
    train: {epochs: 50, batch_size: 128, lr_adapter: 0.001, lr_head: 0.0001, backbone_bn: eval}
    variants:
      cb_focal:        {loss: cb_focal, gamma: 2.0, beta: 0.9999}
      focal_gamma3:    {loss: cb_focal, gamma: 3.0}
      poly:            {loss: poly, epsilon: 1.0}
      asymmetric:      {loss: asymmetric, gamma_pos: 2.0, gamma_neg: 4.0}
      focal_smoothing: {loss: focal_smoothing, gamma: 2.0, smoothing: 0.1}
    significance: {threshold_pp: 1.0}
    """

/// The repository's `examples/` directory.
func examplesDirectory(file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples").path
}

/// The problems of a text that must not parse.
func sweepProblems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SweepError? {
    do {
        _ = try Sweep.parse(text: text, sourceName: "bad.yaml", workingDirectory: "/work")
        XCTFail("expected a SweepError", file: file, line: line)
    } catch let error as SweepError {
        return error
    } catch {
        XCTFail("expected a SweepError, got \(error)", file: file, line: line)
    }
    return nil
}

final class SweepTests: XCTestCase {
    func testIssueExampleParsesAsWritten() throws {
        let sweep = try Sweep.parse(
            text: issueExampleSweep, sourceName: "exp04.yaml", workingDirectory: "/home/r/study")
        XCTAssertEqual(sweep.name, "exp04-loss-ablation")
        XCTAssertEqual(sweep.datasetPath, "/home/r/study/data/block16.h5")
        XCTAssertNil(sweep.datasetSHA256)
        XCTAssertEqual(sweep.stage1, .checkpoint(path: "/home/r/study/runs/stage1/best.h5"))
        XCTAssertEqual(sweep.stage, .stage2)
        XCTAssertEqual(sweep.baseline, "cb_focal")
        XCTAssertEqual(sweep.seeds, [42, 43, 44])
        XCTAssertEqual(
            sweep.variants.map(\.name), ["cb_focal", "focal_gamma3", "poly", "asymmetric", "focal_smoothing"])
        XCTAssertEqual(sweep.train.map(\.key), ["epochs", "batch_size", "lr_adapter", "lr_head", "backbone_bn"])
        XCTAssertEqual(sweep.significance, SignificanceSettings(thresholdPP: 1.0))
        XCTAssertEqual(sweep.maxAttempts, 3)

        let poly = try XCTUnwrap(sweep.variant(named: "poly"))
        XCTAssertEqual(
            poly.overrides,
            [SettingOverride(key: "loss", value: "poly"), SettingOverride(key: "epsilon", value: "1.0")])
        XCTAssertEqual(poly.config.loss, "poly")
        XCTAssertEqual(try XCTUnwrap(poly.config.epsilon), 1.0, accuracy: 1e-12)
        let asymmetric = try XCTUnwrap(sweep.variant(named: "asymmetric"))
        XCTAssertEqual(asymmetric.config.loss, "asymmetric")
        XCTAssertEqual(asymmetric.config.gammaPositive, 2.0)
        XCTAssertEqual(asymmetric.config.gammaNegative, 4.0)
        let gamma3 = try XCTUnwrap(sweep.variant(named: "focal_gamma3"))
        XCTAssertEqual(gamma3.config.loss, "cb_focal")
        XCTAssertEqual(gamma3.config.gamma, 3.0)
        XCTAssertNil(gamma3.config.beta)
        let smoothing = try XCTUnwrap(sweep.variant(named: "focal_smoothing"))
        XCTAssertEqual(smoothing.config.loss, "focal_smoothing")
        XCTAssertEqual(smoothing.config.smoothing, 0.1)

        // The train block reaches every variant; the rest keeps the stage-2 defaults.
        for variant in sweep.variants {
            XCTAssertEqual(variant.config.stage, .stage2)
            XCTAssertEqual(variant.config.epochs, 50)
            XCTAssertEqual(variant.config.batchSize, 128)
            XCTAssertEqual(variant.config.lrAdapter, 0.001, accuracy: 1e-15)
            XCTAssertEqual(variant.config.lrHead, 0.0001, accuracy: 1e-15)
            XCTAssertEqual(variant.config.backboneBN, .eval)
            XCTAssertEqual(variant.config.adapterReduction, 4)
            XCTAssertEqual(variant.config.sampler, .weighted)
            XCTAssertEqual(variant.config(seed: 43).seed, 43)
        }
    }

    func testExampleFilesParse() throws {
        let exp04 = try Sweep.load(path: examplesDirectory() + "/exp04-loss-ablation.yaml")
        let issue = try Sweep.parse(text: issueExampleSweep)
        XCTAssertEqual(exp04.variants, issue.variants)
        XCTAssertEqual(exp04.seeds, [42, 43, 44])
        XCTAssertEqual(exp04.baseline, "cb_focal")
        XCTAssertEqual(exp04.significance.thresholdPP, 1.0, accuracy: 1e-12)
        XCTAssertTrue(exp04.datasetPath?.hasPrefix("/") == true)

        let exp03 = try Sweep.load(path: examplesDirectory() + "/exp03-bn-fix.yaml")
        XCTAssertEqual(exp03.name, "exp03-bn-fix")
        XCTAssertEqual(exp03.baseline, "bn_train")
        XCTAssertEqual(exp03.variants.map(\.name), ["bn_train", "bn_eval"])
        let train = try XCTUnwrap(exp03.variant(named: "bn_train"))
        let eval = try XCTUnwrap(exp03.variant(named: "bn_eval"))
        XCTAssertEqual(train.config.backboneBN, .train)
        XCTAssertEqual(eval.config.backboneBN, .eval)
        var withoutBN = train.config
        withoutBN.backboneBN = .eval
        XCTAssertEqual(withoutBN, eval.config, "backbone_bn is the only difference")
        XCTAssertEqual(eval.config.loss, "cb_focal")
        XCTAssertEqual(eval.config.lrHead, 1e-4, accuracy: 1e-15)
        guard case .train(let stage1) = exp03.stage1 else { return XCTFail("exp03 trains its stage-1 model") }
        XCTAssertEqual(stage1.stage, .stage1)
        XCTAssertEqual(stage1.epochs, 100)
        XCTAssertEqual(stage1.seed, 42)
        XCTAssertEqual(stage1.loss, "focal")
        XCTAssertEqual(stage1.lrHead, 1e-3, accuracy: 1e-15)
        XCTAssertEqual(stage1.sampler, .shuffle)
    }

    func testManyErrorsAreReportedAtOnceWithLineAndKey() throws {
        let text = """
            name: broken
            dataset: data/x.h5
            stage1_checkpoint: s1.h5
            baseline: nonexistent
            seeds: [42, 43, 42]
            colour: blue
            train: {epochs: fifty}
            variants:
              a: {loss: hinge}
              b: {gamma_positive: 2.0}
              a: {loss: poly}
            significance: {threshold_pp: -0.5}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        let found = Dictionary(error.problems.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let expected: [(key: String, line: Int, contains: String)] = [
            ("baseline", 4, "not one of the variants"),
            ("seeds[2]", 5, "duplicate seed 42"),
            ("colour", 6, "unknown key"),
            ("train.epochs", 7, "expected an integer"),
            ("variants.a.loss", 9, "unknown loss 'hinge'"),
            ("variants.b.gamma_positive", 10, "did you mean 'gamma_pos'"),
            ("variants.a", 11, "duplicate key (first on line 9)"),
            ("significance.threshold_pp", 12, "must not be negative"),
        ]
        for item in expected {
            let problem = try XCTUnwrap(found[item.key], "no problem for \(item.key) in\n\(error)")
            XCTAssertEqual(problem.line, item.line, item.key)
            XCTAssertTrue(problem.message.contains(item.contains), "\(item.key): \(problem.message)")
        }
        XCTAssertEqual(error.problems.count, expected.count, "\(error)")
        XCTAssertEqual(error.problems.map(\.line), error.problems.map(\.line).sorted())
        let lines = error.description.split(separator: "\n")
        XCTAssertEqual(lines.count, expected.count)
        XCTAssertTrue(lines[0].hasPrefix("bad.yaml:4: baseline: "), String(lines[0]))
    }

    func testMissingKeysEmptySeedsAndConflictingStage1() throws {
        let text = """
            dataset: {path: data/x.h5, content_hash: abc}
            stage1_checkpoint: s1.h5
            stage1: {epochs: 3}
            seeds: []
            variants:
              only: {}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        let byKey = Dictionary(error.problems.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(byKey["name"]?.message, "missing (required)")
        XCTAssertEqual(byKey["baseline"]?.message, "missing (required)")
        XCTAssertEqual(byKey["dataset.content_hash"]?.line, 1)
        XCTAssertEqual(byKey["stage1"]?.line, 3)
        XCTAssertEqual(byKey["seeds"]?.line, 4)
        XCTAssertEqual(byKey["seeds"]?.message, "must list at least one seed")
        XCTAssertEqual(error.problems.count, 5, "\(error)")
    }

    func testDuplicateKeysAnywhereAreEachReported() throws {
        let text = """
            name: dup
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: p
            seeds: [1]
            seeds: [2]
            variants:
              p: {loss: poly, epsilon: 1.0, epsilon: 2.0}
              q:
                loss: cb_focal
                gamma: 3.0
                gamma: 4.0
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(
            error.problems.map { "\($0.line) \($0.key)" }, ["6 seeds", "8 variants.p.epsilon", "12 variants.q.gamma"],
            "\(error)")
        XCTAssertTrue(error.problems.allSatisfy { $0.message.hasPrefix("duplicate key") })
    }

    func testYAMLSyntaxErrorHasItsLine() throws {
        let error = try XCTUnwrap(sweepProblems("name: x\nvariants: {a: [1, 2}\n"))
        XCTAssertEqual(error.problems.count, 1)
        XCTAssertEqual(error.problems.first?.line, 2)
        XCTAssertTrue(error.problems.first?.message.hasPrefix("invalid YAML") ?? false)
    }

    func testValidationProblemsPointAtTheSettingThatCausesThem() throws {
        let text = """
            name: v
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {batch_size: 1}
            variants:
              a: {epochs: 0}
              b: {adapter_reduction: 3, loss: poly, gamma: 2.0}
              c: {seed: 5, stage: "3ab", backbone_bn: sideways}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        let summary = error.problems.map { "\($0.line) \($0.key)" }
        XCTAssertEqual(
            summary,
            [
                "6 train.batch_size", "8 variants.a.epochs", "9 variants.b.adapter_reduction", "9 variants.b.gamma",
                "10 variants.c.seed", "10 variants.c.stage", "10 variants.c.backbone_bn",
            ], "\(error)")
        let gamma = try XCTUnwrap(error.problems.first { $0.key == "variants.b.gamma" })
        XCTAssertEqual(gamma.message, "does not apply to loss 'poly'")
        let bn = try XCTUnwrap(error.problems.first { $0.key == "variants.c.backbone_bn" })
        XCTAssertTrue(bn.message.contains("eval or train"), bn.message)
    }

    func testNonFiniteNumbersAreRefusedAtTheirLine() throws {
        let text = """
            name: v
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {epochs: 2, scheduler_threshold: .nan}
            variants:
              a: {gamma: .inf}
              b: {lr_adapter: .inf}
              c: {lr_head: 1e999}
              d: {loss: poly, epsilon: -.inf}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        let summary = Set(error.problems.map { "\($0.line) \($0.key)" })
        XCTAssertEqual(
            summary,
            [
                "6 train.scheduler_threshold", "8 variants.a.gamma", "9 variants.b.lr_adapter", "10 variants.c.lr_head",
                "11 variants.d.epsilon",
            ], "\(error)")
        for problem in error.problems {
            XCTAssertTrue(problem.message.contains("must be a finite number"), problem.message)
        }
    }

    func testVariantsThatResolveToTheSameSettingsAreRefused() throws {
        let text = """
            name: same
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {loss: poly}
            variants:
              a: {epsilon: 1.0}
              b: {loss: poly, epsilon: 1.0}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.count, 1)
        XCTAssertEqual(error.problems.first?.key, "variants.b")
        XCTAssertEqual(error.problems.first?.line, 9)
    }

    func testOptionalKeysAndStages() throws {
        let text = """
            name: opt
            dataset: {path: /data/d.h5, content_hash: ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789}
            stage1: {width: 16, epochs: 2, seed: 7, max_train_rows: 64}
            stage: 3ab
            baseline: a
            seeds: [3]
            train: {width: 16, adapter_layers: [2, 3, 4]}
            variants:
              a: {loss: ce}
              b: {command: [python3, train.py, --fast], timeout_s: 90}
            significance: {threshold_pp: 0.5, alpha: 0.01, resamples: 2000, seed: 9}
            max_attempts: 5
            """
        let sweep = try Sweep.parse(text: text, workingDirectory: "/elsewhere")
        XCTAssertEqual(sweep.datasetPath, "/data/d.h5")
        XCTAssertEqual(sweep.datasetSHA256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")
        XCTAssertEqual(sweep.stage, .stage3AB)
        XCTAssertEqual(sweep.variants.map(\.config.stage), [.stage3AB, .stage3AB])
        XCTAssertEqual(sweep.variants[0].config.adapterLayers, [2, 3, 4])
        XCTAssertEqual(sweep.variants[1].command, ["python3", "train.py", "--fast"])
        XCTAssertEqual(try XCTUnwrap(sweep.variants[1].timeoutSeconds), 90, accuracy: 1e-12)
        XCTAssertEqual(
            sweep.significance, SignificanceSettings(thresholdPP: 0.5, alpha: 0.01, resamples: 2000, seed: 9))
        XCTAssertEqual(sweep.maxAttempts, 5)
        guard case .train(let stage1) = sweep.stage1 else { return XCTFail("stage1 is a job") }
        XCTAssertEqual(stage1.width, 16)
        XCTAssertEqual(stage1.maxTrainRows, 64)
        XCTAssertEqual(stage1.adapterLayers, [3, 4], "the train block does not reach the stage-1 job")

        for (stage, expected) in [("2", Stage.stage2), ("stage3_rect", .stage3Rect), ("3rect", .stage3Rect)] {
            let variant = text.replacingOccurrences(of: "stage: 3ab", with: "stage: \(stage)")
            XCTAssertEqual(try Sweep.parse(text: variant).stage, expected)
        }
        let stage1Cells = try XCTUnwrap(sweepProblems(text.replacingOccurrences(of: "stage: 3ab", with: "stage: 1")))
        XCTAssertEqual(stage1Cells.problems.map(\.key), ["stage"])
    }

    func testTrainBlockGivesEveryVariantADefaultCommand() throws {
        let text = """
            name: byo
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1, 2]
            train: {epochs: 7, command: [python3, train.py, --loss, "{loss}", --seed, "{seed}", --out, "{out}"], timeout_s: 600}
            variants:
              a: {loss: ce}
              b: {loss: poly, epsilon: 2.0}
              c: {command: [sh, other.sh, "{variant}", "{batch_size}"], timeout_s: 5}
            """
        let sweep = try Sweep.parse(text: text, workingDirectory: "/w")
        XCTAssertEqual(sweep.train.map(\.key), ["epochs"], "command and timeout_s are not training settings")
        XCTAssertEqual(sweep.variants.map(\.command?.first), ["python3", "python3", "sh"])
        XCTAssertEqual(sweep.variants.map(\.timeoutSeconds), [600, 600, 5])
        XCTAssertEqual(sweep.variants[0].config.epochs, 7)

        let plan = try SweepPlan.make(
            sweep, datasetContentHash: String(repeating: "a", count: 64),
            stage1CheckpointSHA256: String(repeating: "b", count: 64))
        let commands = try CommandPlaceholders.commands(for: plan)
        XCTAssertEqual(commands.count, 6)
        let b2 = try XCTUnwrap(plan.cells.first { $0.variant == "b" && $0.seed == 2 })
        XCTAssertEqual(
            commands[b2.id]?.argv, ["python3", "train.py", "--loss", "poly", "--seed", "2", "--out", "{out}"])
        let c1 = try XCTUnwrap(plan.cells.first { $0.variant == "c" && $0.seed == 1 })
        XCTAssertEqual(
            commands[c1.id], CellCommand(argv: ["sh", "other.sh", "c", "128"], timeoutSeconds: 5),
            "a setting the variant does not write comes from its resolved config")

        let noStage1 = text.replacingOccurrences(of: "stage1_checkpoint: s1.h5\n", with: "")
        XCTAssertEqual(
            try Sweep.parse(text: noStage1).stage1, Stage1Source.none, "commands only: no stage-1 model needed")
        let nativeToo = noStage1.replacingOccurrences(
            of: "train: {epochs: 7, command:", with: "train: {epochs: 7, unused_command:")
        XCTAssertTrue(
            sweepProblems(nativeToo)?.problems.contains { $0.key == "stage1_checkpoint" } == true,
            "a native variant needs one")
        let unknown = try XCTUnwrap(
            sweepProblems(text.replacingOccurrences(of: "\"{variant}\"", with: "\"{variante}\"")))
        XCTAssertEqual(unknown.problems.map(\.key), ["variants.c.command"])
        XCTAssertEqual(unknown.problems.first?.line, 10)
        XCTAssertTrue(
            unknown.problems[0].message.contains("unknown placeholder {variante}"), unknown.problems[0].message)
    }

    func testStage1JobMustBuildTheCellsBackboneWidth() throws {
        let text = """
            name: w
            dataset: d.h5
            stage1: {epochs: 2}
            baseline: a
            seeds: [1]
            train: {width: 16}
            variants:
              a: {}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["stage1"])
        XCTAssertTrue(error.problems[0].message.contains("width 64 differs from width 16"), error.problems[0].message)
    }

    func testUnreadableFileIsOneProblem() {
        XCTAssertThrowsError(try Sweep.load(path: "/nonexistent/sweep.yaml")) { error in
            let sweepError = error as? SweepError
            XCTAssertEqual(sweepError?.problems.count, 1)
            XCTAssertTrue(sweepError?.description.hasPrefix("/nonexistent/sweep.yaml: cannot read") ?? false)
        }
    }
}
