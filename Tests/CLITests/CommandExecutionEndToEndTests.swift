// CommandExecutionEndToEndTests: env, workdir, resume_file and checkpoints of command cells, and GPU packing, with real processes and stub commands.
import AblateSupport
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// A coordinator and workers running /bin/sh stubs: what the command sees (env, working directory, GPU), which of
/// its files stream, and a requeued attempt resuming from a `resume_file` of its own name.
final class CommandExecutionEndToEndTests: XCTestCase {
    private func writeSweep(
        _ directory: TemporaryDirectory, train: String = "{}", variants: [String: String], seeds: [UInt64] = [42],
        maxAttempts: Int = 3
    ) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        let names = variants.keys.sorted()
        let lines = names.map { "  \($0): \(variants[$0] ?? "{}")" }.joined(separator: "\n")
        directory.write(
            "sweep.yaml",
            text: """
                name: execution
                dataset: \(dataset)
                baseline: \(names[0])
                seeds: [\(seeds.map(String.init).joined(separator: ", "))]
                max_attempts: \(maxAttempts)
                train: \(train)
                variants:
                \(lines)

                """)
        return directory.file("sweep.yaml")
    }

    private func script(_ directory: TemporaryDirectory, _ name: String, _ body: String) -> String {
        directory.write(name, text: "#!/bin/sh\n" + body)
        return directory.file(name)
    }

    private func record(_ path: String, line: Int = 0) throws -> [String: Any] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[line].utf8)) as? [String: Any])
    }

    func testEnvWorkdirAndCheckpointPatternsReachTheCommandAndOnlyMatchingFilesStream() throws {
        let directory = TemporaryDirectory()
        let code = directory.file("code")
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        let trainer = script(
            directory, "trainer.sh",
            """
            printf 'state of %s\\n' "$ABLATE_SEED" > "$ABLATE_OUT/state.pt"
            printf 'one\\n' > "$ABLATE_OUT/ckpt-1.bin"
            mkdir -p "$ABLATE_OUT/sub"
            printf 'two\\n' > "$ABLATE_OUT/sub/ckpt-2.bin"
            printf 'not streamed\\n' > "$ABLATE_OUT/other.pt"
            echo "env MODE=$MODE TAG=$TAG OUTCOPY=$OUTCOPY pwd $(pwd)"
            echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5, \\"mode\\": \\"$MODE\\", \\"tag\\": \\"$TAG\\", \\"outcopy\\": \\"$OUTCOPY\\", \\"pwd\\": \\"$(pwd)\\", \\"threads\\": \\"$OMP_NUM_THREADS\\"}" >> "$ABLATE_OUT/metrics.jsonl"

            """)
        let sweep = try writeSweep(
            directory,
            train:
                #"{command: [/bin/sh, "\#(trainer)"], env: {MODE: base, OMP_NUM_THREADS: 2}, checkpoints: ["ckpt-*.bin"], resume_file: state.pt}"#,
            variants: [
                "a": #"{env: {MODE: fast, TAG: "s{seed}-{variant}", OUTCOPY: "{out}"}, workdir: "\#(code)"}"#,
                "nowhere": #"{env: {MODE: slow}, workdir: "\#(directory.file("missing"))"}"#,
            ], maxAttempts: 1)
        let cluster = LocalCluster(directory: directory, name: "execution")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("w")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())

        let cell = try XCTUnwrap(cluster.cells().first { $0.variant == "a" })
        XCTAssertEqual(cell.state, .done, cluster.logTails())
        let line = try record("\(cluster.state)/runs/a/seed-42/metrics.jsonl")
        XCTAssertEqual(line["mode"] as? String, "fast", "the variant's env overrides the train block's per name")
        XCTAssertEqual(line["threads"] as? String, "2", "the train block's other names stay")
        XCTAssertEqual(line["tag"] as? String, "s42-a", "the coordinator fills {seed} and {variant}")
        let out = try XCTUnwrap(line["outcopy"] as? String)
        XCTAssertTrue(out.hasSuffix("/runs/\(cell.id)-a1/out"), "the worker fills {out}: \(out)")
        XCTAssertEqual(
            URL(fileURLWithPath: try XCTUnwrap(line["pwd"] as? String)).resolvingSymlinksInPath().path,
            URL(fileURLWithPath: code).resolvingSymlinksInPath().path, "the command runs in its workdir")
        let names = Set(try cluster.ledger().cellFiles(cell: cell.id, attempt: cell.attempt).map(\.name))
        XCTAssertEqual(
            names, ["state.pt", "ckpt-1.bin", "ckpt-2.bin"], "checkpoints and the resume file, nothing else")
        XCTAssertEqual(
            try String(contentsOfFile: "\(cluster.state)/runs/a/seed-42/state.pt", encoding: .utf8), "state of 42\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(cluster.state)/runs/a/seed-42/other.pt"))
        let log = try String(contentsOfFile: "\(cluster.state)/runs/a/seed-42/attempt-1.log", encoding: .utf8)
        XCTAssertTrue(log.contains("env MODE=fast TAG=s42-a"), log)

        let missing = try XCTUnwrap(cluster.cells().first { $0.variant == "nowhere" })
        XCTAssertEqual(missing.state, .failed)
        let reason = try XCTUnwrap(missing.reason)
        XCTAssertTrue(reason.contains("its workdir '\(directory.file("missing"))'"), reason)
        XCTAssertTrue(reason.contains("does not exist on this worker"), reason)
        let missingLog = try String(
            contentsOfFile: "\(cluster.state)/runs/nowhere/seed-42/attempt-1.log", encoding: .utf8)
        XCTAssertTrue(missingLog.contains("does not exist on this worker"), missingLog)
    }

    func testARequeuedAttemptResumesFromItsResumeFile() throws {
        let directory = TemporaryDirectory()
        let pidFile = directory.file("slow.pids")
        let slow = script(
            directory, "slow.sh",
            """
            if [ "$ABLATE_ATTEMPT" = 1 ]; then
              echo "state after epoch 1" > "$ABLATE_OUT/state.pt.tmp"
              mv "$ABLATE_OUT/state.pt.tmp" "$ABLATE_OUT/state.pt"
              echo '{"epoch": 1, "val_macro_f1": 0.25}' >> "$ABLATE_OUT/metrics.jsonl"
              sleep 1000 &
              echo $$ $! > "\(pidFile)"
              wait
            fi
            resumed=$(cat "$ABLATE_RESUME")
            name=$(basename "$ABLATE_RESUME")
            echo "{\\"epoch\\": 2, \\"val_macro_f1\\": 0.5, \\"resumed_from\\": \\"$resumed\\", \\"name\\": \\"$name\\"}" >> "$ABLATE_OUT/metrics.jsonl"

            """)
        let sweep = try writeSweep(
            directory,
            variants: ["slow": #"{command: [/bin/sh, "\#(slow)"], resume_file: state.pt, checkpoints: []}"#])
        let cluster = LocalCluster(directory: directory, name: "resume")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("a")
        try cluster.wait("the first attempt's state.pt to be the cell's resume point", timeout: 60) {
            (try? String(contentsOfFile: pidFile, encoding: .utf8)) != nil && cluster.cells().first?.resumeEpoch == 1
        }
        try cluster.signal(worker: "a", SIGKILL)
        try cluster.startWorker("b")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        let cell = try XCTUnwrap(cluster.cells().first)
        XCTAssertEqual(cell.state, .done, cluster.logTails())
        XCTAssertGreaterThanOrEqual(cell.attempt, 2)
        let second = try record("\(cluster.state)/runs/slow/seed-42/metrics.jsonl", line: 1)
        XCTAssertEqual(second["resumed_from"] as? String, "state after epoch 1")
        XCTAssertEqual(second["name"] as? String, "resume-state.pt", "$ABLATE_RESUME keeps the resume file's name")
    }

    func testABadExecutionSettingIsOneLineWithFileLineAndKeyAndLeavesNothingBehind() throws {
        let directory = TemporaryDirectory()
        let sweep = try writeSweep(
            directory, train: #"{command: [/bin/sh, run.sh], env: {ABLATE_SEED: 1}}"#,
            variants: ["a": #"{resume_file: ../x.pt, checkpoints: ["/abs/*.pt"]}"#])
        let state = directory.file("state")
        let result = try AblateBinary.run(["local", "--sweep", sweep, "--state", state])
        XCTAssertNotEqual(result.status, 0)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        for needle in [
            "sweep.yaml:6: train.env.ABLATE_SEED: 'ABLATE_SEED' starts with ABLATE_",
            "sweep.yaml:8: variants.a.resume_file: '../x.pt' has a component starting with '.'",
            "sweep.yaml:8: variants.a.checkpoints[0]: '/abs/*.pt' is absolute",
        ] {
            XCTAssertEqual(lines.filter { $0.contains(needle) }.count, 1, "\(needle) in\n\(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: state), "a refused sweep leaves no state directory")
    }

    func testTwoSlotsPerGPUPackFourConcurrentCellsTwoOnEachGPU() throws {
        let directory = TemporaryDirectory()
        let barrier = directory.file("running")
        let go = directory.file("go")
        try FileManager.default.createDirectory(atPath: barrier, withIntermediateDirectories: true)
        let pinned = script(
            directory, "pinned.sh",
            """
            touch "\(barrier)/$ABLATE_SEED"
            i=0
            while [ "$(ls "\(barrier)" | wc -l)" -lt 4 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
            together=$(ls "\(barrier)" | wc -l)
            i=0
            while [ ! -e "\(go)" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
            echo "{\\"epoch\\": 1, \\"val_macro_f1\\": 0.5, \\"cuda\\": \\"$CUDA_VISIBLE_DEVICES\\", \\"gpu\\": \\"$1\\", \\"together\\": $together}" >> "$ABLATE_OUT/metrics.jsonl"

            """)
        let sweep = try writeSweep(
            directory, variants: ["pinned": #"{command: [/bin/sh, "\#(pinned)", "{gpu}"]}"#], seeds: [1, 2, 3, 4])
        let cluster = LocalCluster(directory: directory, name: "packing")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker("w", arguments: ["--gpus", "0,1", "--slots-per-gpu", "2"])
        try cluster.wait("the four cells to run at once", timeout: 60) {
            ((try? FileManager.default.contentsOfDirectory(atPath: barrier))?.count ?? 0) == 4
        }
        XCTAssertEqual(try cluster.ledger().workers().first?.gpus, [0, 1], "HELLO's GPUs are in the ledger")
        let status = try AblateBinary.run(["status", "--state", cluster.state])
        XCTAssertTrue(status.stdout.contains("worker w: GPUs 0,1, 4 slots, 4 running"), status.stdout)
        let live = try AblateBinary.run(["status", "--connect", cluster.endpoint])
        XCTAssertTrue(live.stdout.contains("worker w: GPUs 0,1, 4 slots, 4 running"), live.stdout + live.stderr)
        let json = try AblateBinary.run(["status", "--state", cluster.state, "--json"])
        let document = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        let workers = try XCTUnwrap(document["workers"] as? [[String: Any]], json.stdout)
        XCTAssertEqual(workers.compactMap { $0["worker"] as? String }, ["w"])
        XCTAssertEqual(workers.first?["gpus"] as? [Int], [0, 1])
        XCTAssertEqual(workers.first?["slots"] as? Int, 4)
        directory.write("go", text: "")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        var devices: [String] = []
        for seed: UInt64 in [1, 2, 3, 4] {
            let line = try record("\(cluster.state)/runs/pinned/seed-\(seed)/metrics.jsonl")
            XCTAssertEqual(line["cuda"] as? String, line["gpu"] as? String, "{gpu} is the job's CUDA_VISIBLE_DEVICES")
            XCTAssertEqual(line["together"] as? Int, 4, "the four cells ran at once")
            devices.append(line["cuda"] as? String ?? "")
        }
        XCTAssertEqual(devices.sorted(), ["0", "0", "1", "1"], "two cells on each GPU")

        let alone = try AblateBinary.run([
            "worker", "--connect", cluster.endpoint, "--work-dir", directory.file("x"), "--slots-per-gpu", "2",
        ])
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("--slots-per-gpu needs --gpus"), alone.stderr)
        let mismatch = try AblateBinary.run([
            "worker", "--connect", cluster.endpoint, "--work-dir", directory.file("x"), "--gpus", "0,1",
            "--slots-per-gpu", "2", "--slots", "2",
        ])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.stderr.contains("--slots 2 differs from the 4 slots of --gpus"), mismatch.stderr)
    }
}
