// SweepReplicaTests: a replica (A/A) variant copies its source's settings and trains its cells with other seeds.
import CoordinatorKit
import DatasetKit
import XCTest

final class SweepReplicaTests: XCTestCase {
    let replicaSweep = """
        name: aa
        dataset: d.h5
        stage1_checkpoint: s1.h5
        baseline: a
        seeds: [1, 2]
        train: {epochs: 7, loss: poly, command: [python3, train.py, --seed, "{seed}", --eps, "{epsilon}"], timeout_s: 60}
        variants:
          early: {replica_of: a}
          a: {epsilon: 2.0}
          b: {epsilon: 3.0, command: [sh, b.sh, "{seed}"]}
          bb: {replica_of: b}
          late: {replica_of: a}
        """

    func plan(_ text: String) throws -> SweepPlan {
        try SweepPlan.make(
            Sweep.parse(text: text, workingDirectory: "/w"), datasetContentHash: String(repeating: "d", count: 64),
            stage1CheckpointSHA256: String(repeating: "1", count: 64))
    }

    func testReplicaTakesItsSourcesResolvedSettingsAndCommand() throws {
        let sweep = try Sweep.parse(text: replicaSweep, workingDirectory: "/w")
        XCTAssertEqual(
            sweep.variants.map(\.name), ["early", "a", "b", "bb", "late"], "file order, a replica may come first")
        let a = try XCTUnwrap(sweep.variant(named: "a"))
        let b = try XCTUnwrap(sweep.variant(named: "b"))
        XCTAssertNil(a.replicaOf)
        for (name, source) in [("early", a), ("late", a), ("bb", b)] {
            let replica = try XCTUnwrap(sweep.variant(named: name))
            XCTAssertEqual(replica.replicaOf, source.name)
            XCTAssertEqual(replica.config, source.config, "the train block's settings included")
            XCTAssertEqual(replica.overrides, source.overrides)
            XCTAssertEqual(replica.command, source.command)
            XCTAssertEqual(replica.timeoutSeconds, source.timeoutSeconds)
        }
        XCTAssertEqual(a.config.epochs, 7)
    }

    func testRefusedReplicasAreEachReportedAtTheirLine() throws {
        let text = """
            name: r
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1, 2]
            variants:
              a: {loss: ce}
              b: {replica_of: a, epochs: 3}
              c: {replica_of: nope}
              d: {replica_of: d}
              e: {replica_of: f}
              f: {replica_of: a}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(
            error.problems.map { "\($0.line) \($0.key)" },
            ["8 variants.b.epochs", "9 variants.c.replica_of", "10 variants.d.replica_of", "11 variants.e.replica_of"],
            "\(error)")
        let lines = error.description.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            lines[0],
            "bad.yaml:8: variants.b.epochs: a replica takes exactly the settings of its source; give replica_of alone")
        XCTAssertEqual(lines[1], "bad.yaml:9: variants.c.replica_of: 'nope' is not one of the variants (a)")
        XCTAssertEqual(lines[2], "bad.yaml:10: variants.d.replica_of: a variant cannot be a replica of itself")
        XCTAssertEqual(
            lines[3], "bad.yaml:11: variants.e.replica_of: 'f' is itself a replica (of 'a'); name 'a' instead")

        let baseline = try XCTUnwrap(
            sweepProblems(
                text.replacingOccurrences(of: "baseline: a", with: "baseline: f")
                    .replacingOccurrences(
                        of:
                            "  b: {replica_of: a, epochs: 3}\n  c: {replica_of: nope}\n  d: {replica_of: d}\n  e: {replica_of: f}\n",
                        with: "")))
        XCTAssertEqual(baseline.description, "bad.yaml:4: baseline: 'f' is a replica (of 'a'); make 'a' the baseline")
    }

    func testReplicaCellsTrainWithDerivedSeedsAndHaveTheirOwnIds() throws {
        let plan = try plan(replicaSweep)
        XCTAssertEqual(plan.cells.count, 10)
        XCTAssertEqual(Set(plan.cells.map(\.id)).count, 10, "every cell is its own")
        XCTAssertEqual(
            Set(plan.cells.map(\.seed)).count, 8, "a and b share the sweep seeds; every replica cell has its own")
        let seeds = ReplicaSeeds.seeds(of: plan.sweep)
        for replica in ["early", "bb", "late"] {
            let cells = plan.cells(ofVariant: replica)
            XCTAssertEqual(cells.map(\.seed), [1, 2].compactMap { seeds[replica]?[$0] })
            for cell in cells {
                XCTAssertFalse([1, 2].contains(cell.seed))
                XCTAssertLessThan(cell.seed, 1 << 31)
                XCTAssertEqual(cell.config.seed, cell.seed, "the native trainer gets the derived seed")
            }
        }
        let a = plan.cells(ofVariant: "a")
        let early = plan.cells(ofVariant: "early")
        XCTAssertEqual(a.map(\.seed), [1, 2])
        var sameButSeed = early[0].config
        sameButSeed.seed = 1
        XCTAssertEqual(sameButSeed, a[0].config)

        // Command cells get the derived seed through {seed}.
        let commands = try CommandPlaceholders.commands(for: plan)
        let bb = plan.cells(ofVariant: "bb")[1]
        XCTAssertEqual(commands[bb.id]?.argv, ["sh", "b.sh", String(bb.seed)])
        XCTAssertEqual(
            commands[early[0].id]?.argv, ["python3", "train.py", "--seed", String(early[0].seed), "--eps", "2.0"])
        XCTAssertEqual(commands[early[0].id]?.timeoutSeconds, 60)

        // Adding replicas leaves the other cells' ids alone.
        let without = try self.plan(
            replicaSweep.split(separator: "\n").filter { !$0.contains("replica_of") }.joined(separator: "\n"))
        XCTAssertEqual(
            without.cells.map(\.id),
            plan.cells.filter { plan.sweep.variant(named: $0.variant)?.replicaOf == nil }.map(\.id))
    }

    /// The documented formula, its example, and its step past a seed of the sweep's list.
    func testDerivedSeedsFollowTheDocumentedFormulaAndAvoidTheSweepsSeeds() throws {
        XCTAssertEqual(ReplicaSeeds.derived(replica: "cb_focal_aa", sweepSeed: 42, attempt: 0), 697_215_620)
        XCTAssertEqual(ReplicaSeeds.derived(replica: "aa", sweepSeed: 1, attempt: 0), 2_127_183_950)
        let text = """
            name: clash
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1, 2127183950]
            variants:
              a: {loss: ce}
              aa: {replica_of: a}
            """
        let plan = try plan(text)
        XCTAssertEqual(plan.cells(ofVariant: "aa").first?.seed, 1_887_784_338, "k = 1: k = 0 gives a seed of the list")
        XCTAssertEqual(ReplicaSeeds.derived(replica: "aa", sweepSeed: 1, attempt: 1), 1_887_784_338)
        XCTAssertEqual(Set(plan.cells.map(\.seed)).count, 4)
    }
}
