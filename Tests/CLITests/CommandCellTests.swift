// CommandCellTests: user commands as sweep cells, end to end — metrics and checkpoints streamed, failures retried,
// hung commands killed at their timeout with their children, commands that die with a SIGKILLed worker.
import AblateSupport
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Real coordinator and worker processes running /bin/sh scripts that follow docs/bring-your-own-trainer.md.
final class CommandCellTests: XCTestCase {
    /// Writes a sweep of `variants` (YAML flow mappings by name) and returns its path.
    private func writeSweep(
        _ directory: TemporaryDirectory, variants: [String: String], maxAttempts: Int = 3, seeds: [UInt64] = [42]
    ) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        let names = variants.keys.sorted()
        let lines = names.map { "  \($0): \(variants[$0] ?? "{}")" }.joined(separator: "\n")
        directory.write(
            "sweep.yaml",
            text: """
                name: commands
                dataset: \(dataset)
                baseline: \(names[0])
                seeds: [\(seeds.map(String.init).joined(separator: ", "))]
                max_attempts: \(maxAttempts)
                variants:
                \(lines)

                """)
        return directory.file("sweep.yaml")
    }

    private func script(_ directory: TemporaryDirectory, _ name: String, _ body: String) -> String {
        directory.write(name, text: "#!/bin/sh\n" + body)
        return directory.file(name)
    }

    /// Whether `pid` is a living process (a zombie counts as gone).
    private func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    private func pids(_ path: String) throws -> [pid_t] {
        try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
    }

    func testACommandsMetricsAndCheckpointArriveCentrally() throws {
        let directory = TemporaryDirectory()
        let trainer = script(
            directory, "trainer.sh",
            """
            out="$1"
            i=1
            while [ $i -le 3 ]; do
              printf 'checkpoint %s of %s seed %s\\n' "$i" "$2" "$ABLATE_SEED" > "$out/last.h5.tmp"
              mv "$out/last.h5.tmp" "$out/last.h5"
              echo "{\\"epoch\\": $i, \\"val_macro_f1\\": 0.$((i + 4)), \\"train_loss\\": 1.$i}" >> "$out/metrics.jsonl"
              echo "epoch $i of $2 on cell $ABLATE_CELL"
              sleep 0.3
              i=$((i + 1))
            done

            """)
        let sweep = try writeSweep(
            directory, variants: ["mine": #"{command: [/bin/sh, "\#(trainer)", "{out}", "{variant}"]}"#])
        let cluster = LocalCluster(directory: directory, name: "ok")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("w")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first)
        XCTAssertEqual(cell.state, .done, cluster.logTails())
        XCTAssertEqual(cell.epochsDone, 3)
        XCTAssertEqual(try XCTUnwrap(cell.bestValMacroF1), 0.7, accuracy: 1e-12)
        let ledger = try cluster.ledger()
        XCTAssertEqual(try ledger.metrics(cell: cell.id, attempt: cell.attempt).map(\.epoch), [1, 2, 3])
        let run = "\(cluster.state)/runs/mine/seed-42"
        let central = try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(
            central,
            [
                "{\"epoch\": 1, \"val_macro_f1\": 0.5, \"train_loss\": 1.1}",
                "{\"epoch\": 2, \"val_macro_f1\": 0.6, \"train_loss\": 1.2}",
                "{\"epoch\": 3, \"val_macro_f1\": 0.7, \"train_loss\": 1.3}",
            ])
        let expected = Array("checkpoint 3 of mine seed 42\n".utf8)
        let sha = SHA256Hex.of(expected)
        XCTAssertEqual(
            try ledger.cellFiles(cell: cell.id, attempt: cell.attempt).first { $0.name == "last.h5" }?.sha256, sha)
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(run)/last.h5"))), expected)
        let summary = try XCTUnwrap(cell.summaryJSON)
        XCTAssertTrue(summary.contains(#""best_epoch":3"#) && summary.contains(#""trainer":"command""#), summary)
        let log = try String(contentsOfFile: "\(run)/attempt-1.log", encoding: .utf8)
        XCTAssertTrue(log.contains("epoch 3 of mine on cell \(cell.id)"), log)
    }

    func testAFailingCommandIsRetriedThenFailedWithItsLogTail() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(
            directory,
            variants: [
                "broken": #"{command: [/bin/sh, -c, "echo about to fail on seed {seed}; exit 1"]}"#,
                "badline": #"{command: [/bin/sh, -c, "echo '{\"epoch\": 1}' >> {out}/metrics.jsonl; sleep 30"]}"#,
            ], maxAttempts: 2)
        let cluster = LocalCluster(directory: directory, name: "fail")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("w")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first { $0.variant == "broken" })
        XCTAssertEqual(cell.state, .failed)
        XCTAssertEqual(cell.attempt, 2, "retried once, then failed")
        let reason = try XCTUnwrap(cell.reason)
        XCTAssertTrue(reason.contains("2 attempts failed"), reason)
        XCTAssertTrue(reason.contains("exit status 1"), reason)
        XCTAssertTrue(reason.contains("about to fail on seed 42"), reason)
        let bad = try XCTUnwrap(cluster.cells().first { $0.variant == "badline" })
        XCTAssertEqual(bad.state, .failed)
        XCTAssertEqual(bad.attempt, 1, "a contract violation is not retried")
        XCTAssertTrue(bad.reason?.hasPrefix("metrics.jsonl line 1: missing 'val_macro_f1'") == true, bad.reason ?? "")
    }

    func testAHungCommandIsKilledAtItsTimeoutWithItsChildren() throws {
        let directory = TemporaryDirectory()
        let pidFile = directory.file("hang.pids")
        let hang = script(
            directory, "hang.sh",
            """
            sleep 1000 &
            echo $$ $! > "\(pidFile)"
            wait

            """)
        let sweep = try writeSweep(
            directory, variants: ["hang": #"{command: [/bin/sh, "\#(hang)"], timeout_s: 2}"#], maxAttempts: 1)
        let cluster = LocalCluster(directory: directory, name: "hang")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("w")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first)
        XCTAssertEqual(cell.state, .failed)
        XCTAssertTrue(cell.reason?.contains("timed out after 2 s") == true, cell.reason ?? "")
        let started = try pids(pidFile)
        XCTAssertEqual(started.count, 2)
        try cluster.wait("the command and its child to be gone", timeout: 5) { !started.contains(where: isAlive) }
    }

    /// A sweep of one cell whose first attempt writes `last.h5`, reports epoch 1, then hangs with a child (pids in
    /// `pidFile`); a later attempt resumes: after 4 s it reports epoch 2 with what `$ABLATE_RESUME` held.
    private func slowSweep(_ directory: TemporaryDirectory, pidFile: String) throws -> String {
        let slow = script(
            directory, "slow.sh",
            """
            if [ "$ABLATE_ATTEMPT" = 1 ]; then
              echo "state after epoch 1" > "$ABLATE_OUT/last.h5.tmp"
              mv "$ABLATE_OUT/last.h5.tmp" "$ABLATE_OUT/last.h5"
              echo '{"epoch": 1, "val_macro_f1": 0.25}' >> "$ABLATE_OUT/metrics.jsonl"
              sleep 1000 &
              echo $$ $! > "\(pidFile)"
              wait
            fi
            sleep 4
            resumed=$(cat "$ABLATE_RESUME")
            echo "{\\"epoch\\": 2, \\"val_macro_f1\\": 0.5, \\"resumed_from\\": \\"$resumed\\"}" >> "$ABLATE_OUT/metrics.jsonl"

            """)
        return try writeSweep(directory, variants: ["slow": #"{command: [/bin/sh, "\#(slow)"]}"#])
    }

    /// Starts worker `a` on the slow sweep, waits for its command and returns the command's and its child's pids.
    private func startSlowCommand(_ cluster: LocalCluster, sweep: String, pidFile: String) throws -> [pid_t] {
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("a")
        try cluster.wait("the first attempt's command to run and its last.h5 to be stored", timeout: 60) {
            (try? pids(pidFile).count) == 2 && cluster.cells().first?.resumeEpoch == 1
        }
        return try pids(pidFile)
    }

    /// The slow cell ended done on its second attempt, which resumed from the first attempt's `last.h5`.
    private func assertFinishedOnSecondAttempt(_ cluster: LocalCluster) throws {
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first)
        XCTAssertEqual(cell.state, .done, cluster.logTails())
        // Requeued once; once more only if worker b's 2-second liveness window (400 ms heartbeats) ran out on a
        // slow machine, in which case that attempt must have been lost, never done.
        let attempts = try cluster.ledger().attempts(cell: cell.id)
        let history = attempts.map {
            "attempt \($0.attempt) on \($0.worker): \($0.outcome ?? "open") \($0.reason ?? "")"
        }.joined(separator: "; ")
        XCTAssertGreaterThanOrEqual(cell.attempt, 2, history)
        XCTAssertEqual(attempts.filter { $0.outcome == "done" }.map(\.attempt), [cell.attempt], history)
        for extra in attempts.dropFirst().dropLast() {
            XCTAssertEqual(extra.outcome, "lost", "attempt \(extra.attempt): \(history)\n\(cluster.logTails())")
        }
        if cell.attempt > 2 { print("requeued more than once: \(history)") }
        XCTAssertEqual(cell.epochsDone, 2)
        let lines = try String(contentsOfFile: "\(cluster.state)/runs/slow/seed-42/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(
            lines,
            [
                #"{"epoch": 1, "val_macro_f1": 0.25}"#,
                #"{"epoch": 2, "val_macro_f1": 0.5, "resumed_from": "state after epoch 1"}"#,
            ],
            "epoch 1 from the first attempt, epoch 2 from the second, which got the first's last.h5 in $ABLATE_RESUME")
    }

    func testACommandDiesWithItsKilledWorkerAndTheCellFinishesElsewhere() throws {
        for signal in [SIGKILL, SIGTERM] {
            let directory = TemporaryDirectory()
            let pidFile = directory.file("slow.pids")
            let cluster = LocalCluster(directory: directory, name: "signal\(signal)")
            defer { cluster.stopAll() }
            let started = try startSlowCommand(
                cluster, sweep: try slowSweep(directory, pidFile: pidFile), pidFile: pidFile)
            try cluster.signal(worker: "a", signal)
            try cluster.wait("the command's group to end with its worker (signal \(signal))", timeout: 5) {
                !started.contains(where: isAlive)
            }
            try cluster.startWorker("b")
            try assertFinishedOnSecondAttempt(cluster)
        }
    }

    /// A frozen worker's cell goes to another worker; when it thaws, the coordinator cancels its attempt and the
    /// worker ends the command's group.
    func testACancelFromTheCoordinatorEndsTheCommandsGroup() throws {
        let directory = TemporaryDirectory()
        let pidFile = directory.file("slow.pids")
        let cluster = LocalCluster(directory: directory, name: "cancel")
        defer { cluster.stopAll() }
        let started = try startSlowCommand(cluster, sweep: try slowSweep(directory, pidFile: pidFile), pidFile: pidFile)
        try cluster.signal(worker: "a", SIGSTOP)
        try cluster.startWorker("b")
        try cluster.wait("the frozen worker's cell to go to worker b", timeout: 30) {
            cluster.cells().first?.attempt == 2
        }
        XCTAssertTrue(started.allSatisfy(isAlive), "a frozen worker's command is left alone")
        try cluster.signal(worker: "a", SIGCONT)
        try cluster.wait("the thawed worker to cancel its command", timeout: 20) { !started.contains(where: isAlive) }
        try assertFinishedOnSecondAttempt(cluster)
        let log = (try? String(contentsOfFile: directory.file("worker-a.log"), encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("cancelled by the coordinator"), log)
    }

    func testGpusGiveEachConcurrentJobItsOwnDevice() throws {
        let directory = TemporaryDirectory()
        let pinned = script(
            directory, "pinned.sh",
            """
            sleep 1
            echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5, \\"cuda\\": \\"$CUDA_VISIBLE_DEVICES\\", \\"gpu\\": \\"$1\\"}" >> "$ABLATE_OUT/metrics.jsonl"

            """)
        let sweep = try writeSweep(
            directory, variants: ["pinned": #"{command: [/bin/sh, "\#(pinned)", "{gpu}"]}"#], seeds: [1, 2])
        let cluster = LocalCluster(directory: directory, name: "gpus")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("w", arguments: ["--gpus", "3,5"])
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        var devices: [String] = []
        for seed: UInt64 in [1, 2] {
            let line = try String(
                contentsOfFile: "\(cluster.state)/runs/pinned/seed-\(seed)/metrics.jsonl", encoding: .utf8)
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(
                record["cuda"] as? String, record["gpu"] as? String, "{gpu} is the job's CUDA_VISIBLE_DEVICES")
            devices.append(record["cuda"] as? String ?? "")
        }
        XCTAssertEqual(devices.sorted(), ["3", "5"], "the two concurrent jobs ran on different GPUs")

        let both = try AblateBinary.run([
            "worker", "--connect", cluster.endpoint, "--work-dir", directory.file("x"), "--gpu", "0", "--gpus", "0,1",
        ])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("--gpu and --gpus cannot be combined"), both.stderr)
        let bad = try AblateBinary.run([
            "worker", "--connect", cluster.endpoint, "--work-dir", directory.file("x"), "--gpus", "0,x",
        ])
        XCTAssertTrue(bad.stderr.contains("--gpus '0,x': expected GPU indices separated by commas"), bad.stderr)
    }
}
