// ResumeFaultTests: resumed cells keep an earlier attempt's best files; a damaged resume checkpoint costs no attempt.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Real coordinator and worker processes running a /bin/sh trainer (docs/bring-your-own-trainer.md) whose metrics
/// are fixed, so the best epoch is known: 2 of 5 (val_macro_f1 0.5, 0.9, 0.6, 0.7, 0.65).
final class ResumeFaultTests: XCTestCase {
    private func writeSweep(_ directory: TemporaryDirectory) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "trainer.sh",
            text: """
                #!/bin/sh
                out="$1"
                start=1
                best=0
                if [ -n "$ABLATE_RESUME" ]; then
                  start=$(( $(cut -d' ' -f2 "$ABLATE_RESUME") + 1 ))
                  best=$(cut -d' ' -f4 "$ABLATE_RESUME")
                fi
                i=$start
                while [ $i -le 5 ]; do
                  f1=$(echo "50 90 60 70 65" | cut -d' ' -f$i)
                  if [ "$f1" -gt "$best" ]; then
                    best=$f1
                    printf 'best of epoch %s\\n' "$i" > "$out/best.h5.tmp"; mv "$out/best.h5.tmp" "$out/best.h5"
                  fi
                  printf 'epoch %s best %s\\n' "$i" "$best" > "$out/last.h5.tmp"; mv "$out/last.h5.tmp" "$out/last.h5"
                  echo "{\\"epoch\\": $i, \\"val_macro_f1\\": 0.$f1}" >> "$out/metrics.jsonl"
                  sleep 0.6
                  i=$((i + 1))
                done

                """)
        directory.write(
            "sweep.yaml",
            text: """
                name: resume
                dataset: \(dataset)
                baseline: mine
                seeds: [42]
                variants:
                  mine: {command: [/bin/sh, "\(directory.file("trainer.sh"))", "{out}"]}

                """)
        return directory.file("sweep.yaml")
    }

    private func startWorker(_ cluster: LocalCluster, _ name: String) throws {
        try cluster.startWorker(name, arguments: ["--checkpoint-interval", "0"])
    }

    /// Attempt 1 reaches the best epoch (2) and is SIGKILLed after epoch 3's checkpoint; attempt 2 resumes and never
    /// beats it. The central results still hold attempt 1's best.h5, and the summary names epoch 2.
    func testAResumedAttemptThatNeverBeatsTheBestKeepsTheEarlierBestFiles() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(directory)
        let cluster = LocalCluster(directory: directory, name: "best")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try startWorker(cluster, "a")
        try cluster.wait("the epoch-3 checkpoint stored", timeout: 60) {
            cluster.cells().first.map { $0.resumeEpoch >= 3 } ?? false
        }
        try cluster.signal(worker: "a", SIGKILL)
        try startWorker(cluster, "b")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 60), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first)
        XCTAssertEqual(cell.state, .done, cluster.logTails())
        XCTAssertEqual(cell.attempt, 2)
        let run = "\(cluster.state)/runs/mine/seed-42"
        XCTAssertEqual(
            try? String(contentsOfFile: "\(run)/best.h5", encoding: .utf8), "best of epoch 2\n", cluster.logTails())
        XCTAssertEqual(try? String(contentsOfFile: "\(run)/last.h5", encoding: .utf8), "epoch 5 best 90\n")
        let summary = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/summary.json")))
                as? [String: Any])
        XCTAssertEqual(summary["best_epoch"] as? Int, 2, "\(summary)")
        XCTAssertEqual(summary["best_val_macro_f1"] as? Double, 0.9)
        XCTAssertEqual(
            try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count, 5)
    }

    /// Coordinator and worker are SIGKILLed after epoch 2's checkpoint; the coordinator's copy of that checkpoint is
    /// then damaged. The restarted coordinator finds it before serving it, says so with its path, and the cell starts
    /// afresh on a new worker without spending an attempt of its budget (max_attempts 3 would allow the same).
    func testADamagedResumeCheckpointFallsBackAndCostsNoAttempt() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(directory)
        let cluster = LocalCluster(directory: directory, name: "damaged")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try startWorker(cluster, "a")
        try cluster.wait("the epoch-2 checkpoint stored", timeout: 60) {
            cluster.cells().first.map { $0.resumeEpoch >= 2 } ?? false
        }
        try cluster.killCoordinator()
        try cluster.signal(worker: "a", SIGKILL)
        let sha = try XCTUnwrap(cluster.cells().first?.resumeSHA256)
        let artifact = "\(cluster.state)/artifacts/\(sha)"
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: artifact))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data("EPOCH".utf8))
        try handle.close()

        try cluster.startCoordinator(sweep: sweep)
        try startWorker(cluster, "b")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 60), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first)
        XCTAssertEqual(cell.state, .done, cluster.logTails())
        XCTAssertEqual(cell.failures, 0, "the coordinator's damage is not the cell's failure")
        let attempts = try cluster.ledger().attempts(cell: cell.id)
        XCTAssertTrue(
            attempts.contains { $0.outcome == "lost" && ($0.reason ?? "").contains("is damaged") }, "\(attempts)")
        let log = (try? String(contentsOfFile: directory.file("coordinator.log"), encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("\(artifact): damaged"), log)
        XCTAssertTrue(log.contains("starting afresh"), log)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: "\(cluster.state)/damaged/\(sha)"), "kept aside for inspection")
        let run = "\(cluster.state)/runs/mine/seed-42"
        XCTAssertEqual(try? String(contentsOfFile: "\(run)/best.h5", encoding: .utf8), "best of epoch 2\n")
        XCTAssertEqual(
            try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n").count, 5)
    }
}
