// SweepParamsTests: `params:` of command variants — values, overrides, replicas, placeholders, ids, and every bad case at its line.
import CoordinatorKit
import RunSpec
import XCTest

final class SweepParamsTests: XCTestCase {
    static let dataset = String(repeating: "a", count: 64)

    /// Line numbers are those of the text: line 1 is `name`.
    static let good = """
        name: p
        dataset: d.h5
        baseline: d1
        seeds: [1, 2]
        train: {epochs: 3, command: [sh, run.sh, --dropout, "{dropout}", --layers, "{layers}", --tag, "{tag}"], params: {tag: base, layers: [64, 32], dropout: 0.5}}
        variants:
          d1: {params: {dropout: 0.1}}
          d3: {params: {dropout: 0.3, use_bn: true, tag: "x y", steps: 1000, tiny: 1e-5}}
          d1_aa: {replica_of: d1}
          own: {command: [sh, own.sh, "{seed}", "{extra}"], params: {extra: "1.0"}}
        """

    func testParamsAreReadOverriddenAndCopiedToReplicas() throws {
        let sweep = try Sweep.parse(text: Self.good, workingDirectory: "/w")
        let d1 = try XCTUnwrap(sweep.variant(named: "d1"))
        XCTAssertEqual(
            d1.params,
            CommandParams([
                "tag": .scalar(.text("base")), "layers": .list([.integer(64), .integer(32)]),
                "dropout": .scalar(.number(0.1)),
            ]))
        XCTAssertEqual(d1.overrides, [], "params are not training settings")
        let d3 = try XCTUnwrap(sweep.variant(named: "d3"))
        XCTAssertEqual(d3.params.values["dropout"], .scalar(.number(0.3)))
        XCTAssertEqual(d3.params.values["use_bn"], .scalar(.bool(true)))
        XCTAssertEqual(d3.params.values["tag"], .scalar(.text("x y")))
        XCTAssertEqual(d3.params.values["steps"], .scalar(.integer(1000)))
        XCTAssertEqual(d3.params.values["tiny"], .scalar(.number(1e-5)))
        XCTAssertEqual(sweep.variant(named: "d1_aa")?.params, d1.params, "a replica has its source's params")
        XCTAssertEqual(
            sweep.variant(named: "own")?.params.values["extra"], .scalar(.text("1.0")), "a quoted number is text")
    }

    func testParamsFillPlaceholdersAndEnterIds() throws {
        let sweep = try Sweep.parse(text: Self.good, workingDirectory: "/w")
        let plan = try SweepPlan.make(sweep, datasetContentHash: Self.dataset, stage1CheckpointSHA256: nil)
        let commands = try CommandPlaceholders.commands(for: plan)
        let d1 = try XCTUnwrap(plan.cells.first { $0.variant == "d1" && $0.seed == 1 })
        let d3 = try XCTUnwrap(plan.cells.first { $0.variant == "d3" && $0.seed == 1 })
        XCTAssertEqual(
            commands[d1.id]?.argv, ["sh", "run.sh", "--dropout", "0.1", "--layers", "64,32", "--tag", "base"])
        XCTAssertEqual(
            commands[d3.id]?.argv, ["sh", "run.sh", "--dropout", "0.3", "--layers", "64,32", "--tag", "x y"])
        XCTAssertEqual(commands[d1.id]?.paramsJSON, #"{"dropout":0.1,"layers":[64,32],"tag":"base"}"#)
        let own = try XCTUnwrap(plan.cells.first { $0.variant == "own" && $0.seed == 2 })
        XCTAssertEqual(commands[own.id]?.argv, ["sh", "own.sh", "2", "1.0"])
        XCTAssertNotEqual(d1.id, d3.id)
        XCTAssertEqual(Set(plan.cells.map(\.id)).count, plan.cells.count)
        XCTAssertEqual(d1.params, sweep.variant(named: "d1")?.params)
    }

    func testTwoVariantsDifferingOnlyInAParamGetDifferentIdsAndOneWithoutKeepsItsId() throws {
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
            let plan = try SweepPlan.make(
                try Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: Self.dataset,
                stage1CheckpointSHA256: nil)
            return Dictionary(uniqueKeysWithValues: plan.cells.map { ($0.variant, $0.id) })
        }
        let before = try ids("  a: {loss: ce}")
        let after = try ids(
            "  a: {loss: ce}\n  b: {loss: ce, params: {dropout: 0.1}}\n  c: {loss: ce, params: {dropout: 0.3}}")
        XCTAssertEqual(before["a"], after["a"], "a variant without params keeps its id")
        XCTAssertNotEqual(after["b"], after["c"])
        XCTAssertNotEqual(after["a"], after["b"])
        XCTAssertEqual(try ids("  a: {loss: ce, params: {}}")["a"], before["a"], "empty params are no params")
        // Same value, other spelling: same id.
        XCTAssertEqual(try ids("  a: {loss: ce}\n  b: {loss: ce, params: {dropout: 1.0e-1}}")["b"], after["b"])
    }

    func testVariantsThatDifferOnlyInParamsAreNotTheSameCells() throws {
        let text = """
            name: p
            dataset: d.h5
            baseline: a
            seeds: [1]
            train: {command: [sh, run.sh]}
            variants:
              a: {params: {x: 1}}
              b: {params: {x: 1}}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["variants.b"])
        XCTAssertTrue(error.problems[0].message.contains("same settings as variant 'a'"), error.description)
    }

    func testEveryBadParamIsReportedAtItsLine() throws {
        let text = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {command: [sh, run.sh, "{dropot}"], params: {dropout: 0.1}}
            variants:
              a:
                params:
                  9lives: 1
                  gamma: 2
                  variant: 3
                  bad-name: 4
                  x_inf: .inf
                  x_nan: .nan
                  x_big: 1e999
                  x_null: ~
                  x_map: {a: 1}
                  x_nested: [1, [2]]
                  x_list_null: [1, ~]
                  Dropout: 0.2
                  dropout: 0.3
                  \(String(repeating: "n", count: 65)): 1
                  x_huge: 99999999999999999999
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
        expect(6, "train.command", "unknown placeholder {dropot}")
        expect(10, "variants.a.params.9lives", "must not start with a digit")
        expect(11, "variants.a.params.gamma", "'gamma' is a training setting")
        expect(12, "variants.a.params.variant", "'variant' is a placeholder Ablate fills")
        expect(13, "variants.a.params.bad-name", "only ASCII letters, digits and '_'")
        expect(14, "variants.a.params.x_inf", "expected a finite number, found '.inf'")
        expect(15, "variants.a.params.x_nan", "expected a finite number")
        expect(16, "variants.a.params.x_big", "expected a finite number, found '1e999'")
        expect(17, "variants.a.params.x_null", "found no value")
        expect(18, "variants.a.params.x_map", "found a mapping")
        expect(19, "variants.a.params.x_nested[1]", "found a list")
        expect(20, "variants.a.params.x_list_null[1]", "found no value")
        // With the train block's `dropout`, and with the variant's own `Dropout`.
        expect(21, "variants.a.params.Dropout", "'Dropout' and 'dropout' (line 6) differ only in case")
        expect(22, "variants.a.params.dropout", "differ only in case; both would be ABLATE_PARAM_DROPOUT")
        expect(23, "variants.a.params.\(String(repeating: "n", count: 65))", "at most 64 characters")
        expect(24, "variants.a.params.x_huge", "out of range")
        XCTAssertEqual(error.problems.count, 16, found.joined(separator: "\n"))
    }

    func testNativeVariantsMayNotHaveParams() throws {
        let text = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            variants:
              a: {loss: ce}
              b: {loss: focal, params: {dropout: 0.1}}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["variants.b.params"])
        XCTAssertEqual(error.problems.first?.line, 8)
        XCTAssertEqual(
            error.problems.first?.message,
            "params are passed to commands only; the native trainer's settings are listed by `ablate settings`")

        let inherited = """
            name: p
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {params: {dropout: 0.1}}
            variants:
              a: {loss: ce, command: [sh, run.sh, "{dropout}"]}
              b: {loss: focal}
            """
        let second = try XCTUnwrap(sweepProblems(inherited))
        XCTAssertEqual(second.problems.map(\.key), ["train.params"])
        XCTAssertEqual(second.problems.first?.line, 6)
        XCTAssertTrue(second.problems[0].message.hasPrefix("variant 'b' runs the native trainer"), second.description)
    }

    func testTheTrainCommandsPlaceholdersAreCheckedAgainstEachVariantsParams() throws {
        let text = """
            name: p
            dataset: d.h5
            baseline: a
            seeds: [1]
            train: {command: [sh, run.sh, "{dropout}"]}
            variants:
              a: {params: {dropout: 0.1}}
              b: {loss: focal}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(error.problems.map(\.key), ["train.command"])
        XCTAssertEqual(error.problems.first?.line, 5)
        XCTAssertTrue(
            error.problems[0].message.contains("placeholder {dropout} in '{dropout}' is no param of variant b"),
            error.description)
        let misspelt = try XCTUnwrap(
            sweepProblems(
                text.replacingOccurrences(of: "a: {params", with: "a: {loss: poly, params").replacingOccurrences(
                    of: "{dropout}\"", with: "{dropuot}\"")))
        XCTAssertEqual(
            misspelt.problems.map(\.message),
            [
                "unknown placeholder {dropuot} in '{dropuot}'; use {seed}, {variant}, {out}, {gpu}, a training setting or a param"
            ])
        let ownCommand = text.replacingOccurrences(
            of: "a: {params: {dropout: 0.1}}", with: "a: {command: [sh, a.sh, \"{dropuot}\"], params: {dropout: 0.1}}"
        )
        .replacingOccurrences(
            of: "train: {command: [sh, run.sh, \"{dropout}\"]}", with: "train: {command: [sh, run.sh]}")
        let own = try XCTUnwrap(sweepProblems(ownCommand))
        XCTAssertEqual(own.problems.map(\.key), ["variants.a.command"])
        XCTAssertEqual(own.problems.first?.line, 7)
    }
}
