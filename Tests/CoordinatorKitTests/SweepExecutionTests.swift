// SweepExecutionTests: `env`, `workdir`, `resume_file` and `checkpoints` of command variants — values, overrides, ids, and every bad case at its line.
import CoordinatorKit
import RunSpec
import XCTest

final class SweepExecutionTests: XCTestCase {
    static let dataset = String(repeating: "a", count: 64)

    /// Line numbers are those of the text: line 1 is `name`.
    static let good = """
        name: p
        dataset: d.h5
        baseline: a
        seeds: [1, 2]
        train:
          command: [sh, run.sh, "{out}"]
          params: {dropout: 0.1}
          env: {OMP_NUM_THREADS: 4, MODE: base, SEED_TAG: "s{seed}-{variant}-{dropout}-{gpu}"}
          workdir: /srv/code
          checkpoints: ["ckpt-*.bin", "sub/*.pt"]
        variants:
          a: {}
          b: {env: {MODE: fast, DEBUG: true, RATE: 1e-3}, resume_file: state.pt, workdir: rel/dir}
          a_aa: {replica_of: b}
        """

    func plan(_ text: String) throws -> SweepPlan {
        try SweepPlan.make(
            try Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: Self.dataset,
            stage1CheckpointSHA256: nil)
    }

    func testSettingsAreReadOverriddenPerKeyAndCopiedToReplicas() throws {
        let sweep = try Sweep.parse(text: Self.good, workingDirectory: "/w")
        let a = try XCTUnwrap(sweep.variant(named: "a")).execution
        XCTAssertEqual(
            a.env, ["OMP_NUM_THREADS": "4", "MODE": "base", "SEED_TAG": "s{seed}-{variant}-{dropout}-{gpu}"])
        XCTAssertEqual(a.workdir, "/srv/code")
        XCTAssertNil(a.resumeFile)
        XCTAssertEqual(a.resumeFileName, "last.h5")
        XCTAssertEqual(a.checkpoints, ["ckpt-*.bin", "sub/*.pt"])
        let b = try XCTUnwrap(sweep.variant(named: "b")).execution
        XCTAssertEqual(
            b.env,
            [
                "OMP_NUM_THREADS": "4", "MODE": "fast", "SEED_TAG": "s{seed}-{variant}-{dropout}-{gpu}",
                "DEBUG": "true",
                "RATE": "0.001",
            ])
        XCTAssertEqual(b.workdir, "rel/dir", "a workdir is kept as written: the worker resolves it")
        XCTAssertEqual(b.resumeFile, "state.pt")
        XCTAssertEqual(b.checkpoints, ["ckpt-*.bin", "sub/*.pt"])
        XCTAssertEqual(sweep.variant(named: "a_aa")?.execution, b, "a replica has its source's settings")
    }

    func testEnvPlaceholdersAreFilledAndTheRestGoesToTheCommand() throws {
        let plan = try plan(Self.good)
        let commands = try CommandPlaceholders.commands(for: plan)
        let cell = try XCTUnwrap(plan.cells.first { $0.variant == "a" && $0.seed == 2 })
        let command = try XCTUnwrap(commands[cell.id])
        XCTAssertEqual(command.execution.env["SEED_TAG"], "s2-a-0.1-{gpu}", "{gpu} is left for the worker")
        XCTAssertEqual(command.assignEnv?["OMP_NUM_THREADS"], "4")
        XCTAssertEqual(command.execution.workdir, "/srv/code")
        XCTAssertEqual(command.execution.checkpoints, ["ckpt-*.bin", "sub/*.pt"])
        XCTAssertNil(command.execution.resumeFile)
    }

    func testOnlyEnvEntersTheIdAndAVariantWithoutItKeepsItsId() throws {
        func ids(_ variants: String) throws -> [String: String] {
            let text = """
                name: p
                dataset: d.h5
                baseline: a
                seeds: [1]
                train: {command: [sh, run.sh, "{out}"]}
                variants:
                \(variants)
                """
            return Dictionary(uniqueKeysWithValues: try plan(text).cells.map { ($0.variant, $0.id) })
        }
        let before = try ids("  a: {loss: ce}")
        let located = try ids(
            "  a: {loss: ce, workdir: /x, resume_file: s.pt, checkpoints: [\"*.bin\"]}")
        XCTAssertEqual(before["a"], located["a"], "workdir, resume_file and checkpoints do not enter the id")
        XCTAssertEqual(try ids("  a: {loss: ce, env: {}}")["a"], before["a"], "an empty env is no env")
        let withEnv = try ids("  a: {loss: ce}\n  b: {loss: ce, env: {X: 1}}\n  c: {loss: ce, env: {X: 2}}")
        XCTAssertEqual(withEnv["a"], before["a"])
        XCTAssertNotEqual(withEnv["b"], withEnv["c"])
        XCTAssertNotEqual(withEnv["a"], withEnv["b"])
        // Same values, other spelling and order: the same id.
        XCTAssertEqual(try ids("  a: {loss: ce}\n  b: {loss: ce, env: {X: \"1\"}}")["b"], withEnv["b"])
        let cell = try XCTUnwrap(
            try plan(
                "name: p\ndataset: d.h5\nbaseline: b\nseeds: [1]\nvariants:\n  b: {command: [sh, r.sh], env: {Y: b, X: 1}}"
            ).cells.first)
        let text = try CellIdentity.text(
            config: cell.config, datasetContentHash: Self.dataset, stage1: nil, command: ["sh", "r.sh"],
            extras: ["env": #"{"X":"1","Y":"b"}"#])
        XCTAssertTrue(text.contains(#""env":{"X":"1","Y":"b"}"#), text)
        XCTAssertEqual(
            cell.id,
            try SweepPlan.cellID(
                config: cell.config, datasetContentHash: Self.dataset, stage1: nil, command: ["sh", "r.sh"],
                extras: ["env": #"{"X":"1","Y":"b"}"#]))
    }

    func testVariantsThatDifferOnlyInWhereTheyRunAreTheSameCells() throws {
        let text = """
            name: p
            dataset: d.h5
            baseline: a
            seeds: [1]
            train: {command: [sh, run.sh]}
            variants:
              a: {workdir: /one}
              b: {workdir: /two}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["variants.b"])
        XCTAssertTrue(error.problems[0].message.contains("same settings as variant 'a'"), error.description)
    }

    func testEveryBadValueIsReportedAtItsLine() throws {
        let text = """
            name: p
            dataset: d.h5
            baseline: a
            seeds: [1]
            train:
              command: [sh, run.sh]
              env: {GOOD: 1, ABLATE_OUT: x, CUDA_VISIBLE_DEVICES: 0}
            variants:
              a:
                env:
                  9LIVES: 1
                  bad-name: 2
                  LIST: [1, 2]
                  EMPTY: ~
                  INF: .inf
                  TAG: "{sed}"
                  LONG: \(String(repeating: "x", count: 4097))
                workdir: ""
                resume_file: ../state.pt
                checkpoints: ["/abs/*.pt", "ok-*.bin", "a[0].pt", 3, ~]
              b:
                resume_file: "st*te.pt"
                checkpoints: "*.pt"
                workdir: [a]
              c: {resume_file: /abs.pt, env: [A]}
              d: {}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        let found = error.problems.map { "\($0.line): \($0.key): \($0.message)" }
        func expect(
            _ line: Int, _ key: String, _ fragment: String, file: StaticString = #filePath, lineNumber: UInt = #line
        ) {
            XCTAssertTrue(
                error.problems.contains { $0.line == line && $0.key == key && $0.message.contains(fragment) },
                "no \(line): \(key): …\(fragment)… in\n\(found.joined(separator: "\n"))", file: file, line: lineNumber)
        }
        expect(7, "train.env.ABLATE_OUT", "'ABLATE_OUT' starts with ABLATE_, the prefix of the worker's own variables")
        expect(7, "train.env.CUDA_VISIBLE_DEVICES", "is set by the worker itself")
        expect(11, "variants.a.env.9LIVES", "'9LIVES' is not a valid variable name")
        expect(12, "variants.a.env.bad-name", "is not a valid variable name")
        expect(13, "variants.a.env.LIST", "expected a text, number or bool, found a list")
        expect(14, "variants.a.env.EMPTY", "expected a text, number or bool")
        expect(15, "variants.a.env.INF", "expected a finite number")
        expect(17, "variants.a.env.LONG", "4097 bytes, longer than 4096")
        expect(18, "variants.a.workdir", "must not be empty")
        expect(19, "variants.a.resume_file", "'../state.pt' has a component starting with '.'")
        expect(20, "variants.a.checkpoints[0]", "'/abs/*.pt' is absolute")
        expect(20, "variants.a.checkpoints[2]", "uses characters other than [A-Za-z0-9._-], '*', '?' and '/'")
        expect(20, "variants.a.checkpoints[4]", "expected a text (a glob pattern)")
        expect(22, "variants.b.resume_file", "uses characters other than [A-Za-z0-9._-] and '/'")
        expect(23, "variants.b.checkpoints", "expected a list")
        expect(24, "variants.b.workdir", "expected a text value")
        expect(25, "variants.c.resume_file", "is absolute")
        expect(25, "variants.c.env", "expected a mapping")
        XCTAssertEqual(error.problems.count, 18, found.joined(separator: "\n"))
        // One line each, with file, line and key.
        XCTAssertTrue(error.description.contains("bad.yaml:19: variants.a.resume_file: "), error.description)
    }

    func testAnUnknownPlaceholderInAnEnvValueIsReportedAtItsLine() throws {
        let text = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            variants:
              a: {command: [sh, run.sh], env: {TAG: "{sed}-{seed}"}}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["variants.a.env.TAG"])
        XCTAssertEqual(error.problems.first?.line, 7)
        XCTAssertTrue(error.problems[0].message.contains("unknown placeholder {sed}"), error.description)
    }

    func testTooManyVariablesAreRefused() throws {
        let many = (0..<65).map { "V\($0): 1" }.joined(separator: ", ")
        let text = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            variants:
              a: {command: [sh, run.sh], env: {\(many)}}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["variants.a.env"])
        XCTAssertTrue(error.problems[0].message.contains("65 variables, more than 64"), error.description)
        let patterns = (0..<33).map { "\"f\($0).pt\"" }.joined(separator: ", ")
        let second = try XCTUnwrap(
            sweepProblems(text.replacingOccurrences(of: "env: {\(many)}", with: "checkpoints: [\(patterns)]")))
        XCTAssertEqual(second.problems.map(\.key), ["variants.a.checkpoints"])
        XCTAssertTrue(second.problems[0].message.contains("33 patterns, more than 32"), second.description)
    }

    func testNativeVariantsMayNotHaveExecutionSettings() throws {
        let text = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            variants:
              a: {loss: ce}
              b: {loss: focal, env: {X: 1}, workdir: /x}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key).sorted(), ["variants.b.env", "variants.b.workdir"])
        XCTAssertTrue(error.problems[0].message.contains("is passed to commands only"), error.description)
        let inherited = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {checkpoints: ["*.bin"]}
            variants:
              a: {loss: ce, command: [sh, run.sh]}
              b: {loss: focal}
            """
        let second = try XCTUnwrap(sweepProblems(inherited))
        XCTAssertEqual(second.problems.map(\.key), ["train.checkpoints"])
        XCTAssertEqual(second.problems.first?.line, 6)
        XCTAssertTrue(second.problems[0].message.hasPrefix("variant 'b' runs the native trainer"), second.description)
    }
}
