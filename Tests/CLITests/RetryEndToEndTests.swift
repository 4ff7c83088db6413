// RetryEndToEndTests: `ablate local` exits non-zero with failed cells; `ablate retry` runs them again once fixed.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// A command variant whose stub fails until a file `fixed` exists: the first `ablate local` ends with the cell
/// failed and a non-zero status naming `ablate retry`; a retry refused while a coordinator holds the state
/// directory changes nothing; after the fix, `ablate retry --failed` and the same `ablate local` finish the cell
/// with a third attempt, the two failed ones kept in the ledger.
final class RetryEndToEndTests: XCTestCase {
    func testFailedCellRunsAgainAfterRetry() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        let fixed = directory.file("fixed")
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                if [ "$2" = flaky ] && [ ! -e "\(fixed)" ]; then echo "missing fix" >&2; exit 3; fi
                echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5$ABLATE_SEED}" >> "$out/metrics.jsonl"

                """)
        directory.write(
            "retry.yaml",
            text: """
                name: retry
                dataset: \(dataset)
                baseline: base
                seeds: [1, 2]
                max_attempts: 2
                train: {epochs: 1, command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}", "{variant}"]}
                variants:
                  base: {loss: cb_focal}
                  flaky: {loss: poly, epsilon: 1.0}
                significance: {resamples: 100}

                """)
        let state = directory.file("state")
        let local = ["local", "--sweep", directory.file("retry.yaml"), "--state", state, "--workers", "1"]
        let first = try AblateBinary.run(local)
        XCTAssertNotEqual(first.status, 0, "failed cells are not a success")
        XCTAssertTrue(
            first.stderr.contains(
                "2 cells failed (listed above); once the cause is fixed, `ablate retry --state \(state) --failed`"),
            first.stderr)
        let ledger = try Ledger(readingDirectory: state)
        let flaky = try ledger.plannedCells().filter { $0.variant == "flaky" }
        XCTAssertEqual(flaky.map(\.state), [.failed, .failed])
        XCTAssertEqual(flaky.map(\.attempt), [2, 2], "max_attempts 2")
        try ledger.close()

        let nothing = try AblateBinary.run(["retry", "--state", state, "--failed", "--variant", "base"])
        XCTAssertNotEqual(nothing.status, 0)
        XCTAssertEqual(
            nothing.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "Error: no failed cell of variant base to retry")
        let unknown = try AblateBinary.run(["retry", "--state", state, "--failed", "--variant", "nope"])
        XCTAssertTrue(
            unknown.stderr.contains("--variant nope: no such variant in the sweep (base, flaky)"), unknown.stderr)
        do {
            let held = try StateLock(stateDirectory: state)
            let busy = try AblateBinary.run(["retry", "--state", state, "--failed"])
            XCTAssertNotEqual(busy.status, 0)
            XCTAssertTrue(busy.stderr.contains("in use by another coordinator"), busy.stderr)
            withExtendedLifetime(held) {}
        }
        let stillFailed = try Ledger(readingDirectory: state)
        XCTAssertEqual(
            try stillFailed.plannedCells().filter { $0.state == .failed }.count, 2, "a refusal changes nothing")
        try stillFailed.close()

        let one = try AblateBinary.run(["retry", "--state", state, "--cell", String(flaky[0].id.prefix(10))])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("retry: flaky seed \(flaky[0].seed)"), one.stdout)
        let rest = try AblateBinary.run(["retry", "--state", state, "--failed", "--json"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        let json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: [[String: String]]])
        XCTAssertEqual(json["retried"]?.map { $0["id"] }, [flaky[1].id])

        XCTAssertTrue(FileManager.default.createFile(atPath: fixed, contents: Data()))
        let second = try AblateBinary.run(local)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("| flaky |"), second.stdout)
        let after = try Ledger(readingDirectory: state)
        defer { try? after.close() }
        for cell in flaky {
            XCTAssertEqual(try after.cell(cell.id)?.state, .done)
            XCTAssertEqual(try after.attempts(cell: cell.id).map(\.outcome), ["failed", "failed", "done"])
        }
    }

    func testBadInvocationsAreOneLine() throws {
        let directory = TemporaryDirectory()
        for (arguments, message) in [
            (["retry", "--state", directory.path], "give --failed or --cell ID"),
            (
                ["retry", "--state", directory.path, "--failed", "--cell", "abcdef"],
                "give --failed or --cell, not both"
            ),
            (["retry", "--state", directory.path, "--cell", "xyz"], "--cell xyz: not a cell id"),
            (["retry", "--state", directory.path, "--failed"], "no ledger.sqlite there"),
        ] {
            let run = try AblateBinary.run(arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [], "nothing left behind")
    }
}
