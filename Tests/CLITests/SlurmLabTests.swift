// SlurmLabTests: deploy/slurm/ablate-workers.sbatch and `ablate slurm submit` against a real one-node Slurm
// (scripts/slurm-lab.sh) — pinned, labelled workers finish a sweep and leave; scancel and a preemption-style stop
// release cells that resume elsewhere with an undisturbed run's results.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class SlurmLabTests: XCTestCase {
    /// A stage-1 job and two cells of `epochs` epochs each.
    private func writeSweep(_ directory: TemporaryDirectory, epochs: Int) throws -> String {
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: slurmlab
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: a
                seeds: [1, 2]
                train: {width: 16, epochs: \(epochs), max_train_rows: 1200, max_val_rows: 300}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}

                """)
        return directory.file("sweep.yaml")
    }

    /// The template as submitted by hand: one task per stand-in GPU, each worker pinned to its CPU and GPU, labelled
    /// with its array task in `ablate status`, working under the template's directory; the sweep finishes, the workers
    /// leave on their own and the queue empties.
    func testTemplateWorkersArePinnedLabelledFinishTheSweepAndLeave() throws {
        let directory = TemporaryDirectory()
        let lab = try SlurmLab(directory: directory)
        defer { lab.stop() }
        try lab.makeKeys()
        try lab.startCoordinator(sweep: try writeSweep(directory, epochs: 6))
        let job = try lab.sbatch([
            "--array=0-1", "--gres=gpu:1", "--cpus-per-task=1", "--time=10",
            "--output=\(directory.file("slurm-%A_%a.out"))", SlurmLab.template,
        ])

        // Both workers run, each bound to one CPU and one stand-in GPU of its own, and show their task in the status.
        var pinning: [String: (cpus: String, gpu: String)] = [:]
        var labels: Set<String> = []
        try lab.wait("both tasks' workers running and labelled in ablate status", timeout: 120) {
            for (label, seen) in Self.workerProcesses(job: job) { pinning[label] = seen }
            let status = lab.status()
            for task in 0..<2 where status.contains("[slurm:\(job)_\(task)]") { labels.insert("slurm:\(job)_\(task)") }
            return pinning.count == 2 && labels.count == 2
        }
        XCTAssertEqual(Set(pinning.values.map(\.cpus)).count, 2, "each task has a CPU of its own: \(pinning)")
        XCTAssertEqual(Set(pinning.values.map(\.gpu)), ["0", "1"], "each task has a GPU of its own: \(pinning)")
        for (label, seen) in pinning {
            XCTAssertFalse(seen.cpus.contains(",") || seen.cpus.contains("-"), "\(label) pinned to one CPU: \(seen)")
        }

        XCTAssertEqual(try lab.processes.waitForExit("slurm-coordinator", timeout: 180), 0, lab.tails())
        XCTAssertTrue(lab.cells().allSatisfy { $0.state == .done }, lab.tails())
        XCTAssertEqual(lab.cells().count, 3)
        try lab.wait("the array's tasks to end", timeout: 60) { lab.queue().isEmpty }
        for task in 0..<2 {
            let output = lab.output(job, task)
            XCTAssertTrue(output.contains("started 1 worker(s) (slurm:\(job)_\(task))"), output)
            XCTAssertTrue(output.contains("the sweep is finished; exiting"), output)
            XCTAssertTrue(output.contains("worker(s) ended (status 0)"), output)
        }
        // Work directories where the template puts them: $TMPDIR/ablate-<task's job id>/gpu<N>.
        let work = directory.entries().filter { $0.hasPrefix("ablate-") }
        XCTAssertEqual(work.count, 2, "\(directory.entries())")
        XCTAssertEqual(
            Set(work.flatMap { directory.entries($0).filter { $0.hasPrefix("gpu") } }), ["gpu0", "gpu1"])
        let workers = try Ledger(readingDirectory: lab.state).workers().map(\.name)
        XCTAssertEqual(workers.count, 2, "\(workers)")
        XCTAssertTrue(workers.contains { $0.hasSuffix("-gpu0") } && workers.contains { $0.hasSuffix("-gpu1") })
    }

    /// A plain `scancel` of one task mid-cell, then a preemption-style stop of the other (SIGTERM to the batch shell,
    /// the kill after a grace): each worker releases its cell, a task submitted later resumes both from their last
    /// checkpoints, and every result equals an undisturbed run's. The first array goes through `ablate slurm submit`.
    func testScancelAndPreemptionReleaseCellsThatResumeWithTheUndisturbedResults() throws {
        let directory = TemporaryDirectory()
        let lab = try SlurmLab(directory: directory)
        defer { lab.stop() }
        let sweep = try writeSweep(directory, epochs: 10)

        let clean = LocalCluster(directory: directory, name: "clean")
        defer { clean.stopAll() }
        try clean.startCoordinator(sweep: sweep)
        try clean.startWorker("clean", arguments: ["--checkpoint-interval", "0"], cache: "cache-clean")
        XCTAssertEqual(try clean.waitForCoordinator(timeout: 300), 0, clean.logTails())
        let reference = try ResultSnapshot(state: clean.state)

        try lab.makeKeys()
        try lab.startCoordinator(sweep: sweep)
        let submitted = try AblateBinary.run(
            [
                "slurm", "submit", "--workers", "2", "--gres", "gpu:1", "--cpus-per-task", "1", "--time", "10",
                "--connect", lab.endpoint, "--keys", lab.keys, "--stop-timeout", "10", "--",
                "--checkpoint-interval", "0",
            ], environment: lab.environment.merging(["SBATCH_OUTPUT": directory.file("slurm-%A_%a.out")]) { $1 })
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let job = try XCTUnwrap(
            submitted.stdout.split(separator: " ").dropFirst(2).first.map { $0.trimmingCharacters(in: [":"]) },
            submitted.stdout)
        XCTAssertTrue(submitted.stdout.hasPrefix("submitted job \(job): 2 task(s)"), submitted.stdout)

        // The task of a stage-2 cell at least two epochs in (from the label in `ablate status`).
        func taskMidCell(among tasks: [Int]) -> Int? {
            for line in lab.status().split(separator: "\n") where line.hasPrefix("a ") && line.contains("running") {
                let epoch = line.split(separator: " ").first { $0.contains("/") }.flatMap {
                    Int($0.split(separator: "/")[0])
                }
                guard let epoch, epoch >= 2 else { continue }
                if let task = tasks.first(where: { line.contains("[slurm:\(job)_\($0)]") }) { return task }
            }
            return nil
        }
        func releases() -> Int {
            lab.processes.logText("slurm-coordinator").components(separatedBy: "requeued: released by its worker").count
                - 1
        }

        // 1. scancel: Slurm sends SIGTERM to every process of the task (and SIGKILL after KillWait).
        var first: Int?
        try lab.wait("a cell two epochs in", timeout: 180) {
            first = taskMidCell(among: [0, 1])
            return first != nil
        }
        let cancelled = try XCTUnwrap(first)
        try lab.slurm("scancel", ["\(job)_\(cancelled)"])
        try lab.wait("the cancelled task's worker to release its cell", timeout: 30) { releases() == 1 }
        XCTAssertTrue(lab.output(job, cancelled).contains("released at epoch"), lab.output(job, cancelled))

        // 2. Preemption-style: SIGTERM to the batch shell only (the trap forwards it), the kill after a grace.
        let other = 1 - cancelled
        try lab.wait("the other task two epochs into a cell", timeout: 180) { taskMidCell(among: [other]) != nil }
        try lab.slurm("scancel", ["--signal=TERM", "--batch", "\(job)_\(other)"])
        try lab.wait("the preempted task's worker to release its cell", timeout: 30) { releases() == 2 }
        let grace = Date().addingTimeInterval(10)
        try lab.wait("the preempted task to end within the grace", timeout: 15) {
            !lab.queue().contains { $0.hasPrefix("\(job)_\(other) ") } || Date() > grace
        }
        try lab.slurm("scancel", ["\(job)_\(other)"])
        let preempted = lab.output(job, other)
        XCTAssertTrue(preempted.contains("stopping 1 worker(s)"), "the trap forwarded SIGTERM:\n\(preempted)")
        XCTAssertTrue(preempted.contains("released at epoch"), preempted)
        XCTAssertTrue(preempted.contains("worker(s) ended (status 0)"), "released before the kill:\n\(preempted)")

        // 3. A later task resumes both cells from their last checkpoints and finishes the sweep.
        try lab.wait("the first array to leave the queue", timeout: 60) { lab.queue().isEmpty }
        let later = try lab.sbatch([
            "--array=0", "--gres=gpu:1", "--cpus-per-task=1", "--time=10",
            "--output=\(directory.file("slurm-%A_%a.out"))", SlurmLab.template,
        ])
        XCTAssertEqual(try lab.processes.waitForExit("slurm-coordinator", timeout: 300), 0, lab.tails())
        XCTAssertTrue(lab.output(later, 0).contains("resuming from last.h5"), lab.output(later, 0))
        try lab.wait("the later task to end", timeout: 60) { lab.queue().isEmpty }
        let differences = try ResultSnapshot(state: lab.state).differences(from: reference)
        XCTAssertEqual(differences, [], lab.tails())
        let attempts = lab.cells().filter { $0.stage == "2" }.map(\.attempt)
        XCTAssertTrue(attempts.contains { $0 >= 2 }, "a released cell ran a second attempt: \(attempts)")
    }

    /// `scontrol requeue` of a running task: Slurm stops it (its worker gives its cell back) and starts it again;
    /// the restarted task's worker comes back under the same label, takes the cells and the sweep finishes.
    func testARequeuedTaskComesBackAndTakesNewCells() throws {
        let directory = TemporaryDirectory()
        let lab = try SlurmLab(directory: directory)
        defer { lab.stop() }
        try lab.makeKeys()
        try lab.startCoordinator(sweep: try writeSweep(directory, epochs: 8))
        let job = try lab.sbatch([
            "--array=0", "--requeue", "--open-mode=append", "--gres=gpu:1", "--cpus-per-task=1", "--time=10",
            "--output=\(directory.file("slurm-%A_%a.out"))", SlurmLab.template,
        ])
        try lab.wait("a stage-2 cell running with a checkpoint", timeout: 180) {
            lab.cells().contains { $0.stage == "2" && $0.state == .running && $0.resumeEpoch >= 1 }
        }
        let requeue = try lab.slurm("scontrol", ["requeue", "\(job)_0"])
        XCTAssertEqual(requeue.status, 0, requeue.stderr)
        try lab.wait("the task to start a second time", timeout: 240) {
            lab.output(job, 0).components(separatedBy: "started 1 worker(s)").count - 1 >= 2
        }
        XCTAssertEqual(try lab.processes.waitForExit("slurm-coordinator", timeout: 300), 0, lab.tails())
        XCTAssertTrue(lab.cells().allSatisfy { $0.state == .done }, lab.tails())
        let output = lab.output(job, 0)
        XCTAssertTrue(output.contains("released at epoch"), "the first run gave its cell back:\n\(output)")
        XCTAssertTrue(output.contains("the sweep is finished; exiting"), output)
        let attempts = lab.cells().filter { $0.stage == "2" }.map(\.attempt)
        XCTAssertTrue(attempts.contains { $0 >= 2 }, "the released cell ran again: \(attempts)")
        try lab.wait("the task to end", timeout: 60) { lab.queue().isEmpty }
    }

    /// `ablate slurm submit` without a cluster: it hands sbatch the built-in template (the file in deploy/, byte for
    /// byte) with the settings in its environment; no sbatch on PATH and a failing sbatch are one clear line each.
    func testSubmitHandsSbatchTheTemplateAndReportsItsErrorsInOneLine() throws {
        let directory = TemporaryDirectory()
        for name in ["coordinator", "worker"] {
            XCTAssertEqual(try AblateBinary.run(["keygen", "--out", directory.file("keys"), "--name", name]).status, 0)
        }
        try FileManager.default.createDirectory(atPath: directory.file("bin"), withIntermediateDirectories: true)
        // A stand-in sbatch: records its arguments, standard input and the template's settings, prints a job id.
        directory.write(
            "bin/sbatch",
            text: """
                #!/bin/sh
                printf '%s\\n' "$@" > "\(directory.file("args"))"
                cat > "\(directory.file("script"))"
                env | grep '^ABLATE' | sort > "\(directory.file("env"))"
                [ -n "$FAIL" ] && { echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1; }
                echo "4242;lab"

                """)
        chmod(directory.file("bin/sbatch"), 0o755)
        let base = [
            "slurm", "submit", "--workers", "3", "--connect", "tcp://10.0.0.1:5555", "--keys", directory.file("keys"),
        ]
        let path = directory.file("bin") + ":/usr/bin:/bin"

        let ok = try AblateBinary.run(
            base + ["--gres", "gpu:2", "--time", "1:00:00", "--partition", "gpu", "--", "--slots", "2"],
            environment: ["PATH": path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.hasPrefix("submitted job 4242: 3 task(s)"), ok.stdout)
        XCTAssertEqual(
            try String(contentsOfFile: directory.file("script"), encoding: .utf8),
            try String(contentsOfFile: SlurmLab.template, encoding: .utf8), "the built-in template is deploy/'s")
        XCTAssertEqual(
            try String(contentsOfFile: directory.file("args"), encoding: .utf8),
            "--parsable\n--array=0-2\n--gres=gpu:2\n--time=1:00:00\n--partition=gpu\n")
        let environment = try String(contentsOfFile: directory.file("env"), encoding: .utf8)
        XCTAssertTrue(environment.contains("ABLATE_COORDINATOR=tcp://10.0.0.1:5555\n"), environment)
        XCTAssertTrue(environment.contains("ABLATE_KEYS=\(directory.file("keys"))\n"), environment)
        XCTAssertTrue(environment.contains("ABLATE_WORKER_ARGS=--slots 2\n"), environment)
        XCTAssertTrue(environment.contains("ABLATE=\(AblateBinary.path)\n"), environment)

        let failing = try AblateBinary.run(base, environment: ["PATH": path, "FAIL": "1"])
        XCTAssertNotEqual(failing.status, 0)
        XCTAssertTrue(
            failing.stderr.contains(
                "sbatch failed (exit 1): sbatch: error: Batch job submission failed: Invalid partition name specified"),
            failing.stderr)
        XCTAssertEqual(failing.stderr.split(separator: "\n").count, 1, failing.stderr)

        let missing = try AblateBinary.run(base, environment: ["PATH": directory.file("nowhere")])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("sbatch is not on PATH"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)

        let spaced = try AblateBinary.run(base + ["--", "--name", "a b"], environment: ["PATH": path])
        XCTAssertNotEqual(spaced.status, 0)
        XCTAssertTrue(spaced.stderr.contains("holds a space"), spaced.stderr)
    }

    /// Each `ablate worker` process of `job`'s tasks: its label → the CPUs it may run on and its CUDA_VISIBLE_DEVICES.
    static func workerProcesses(job: String) -> [String: (cpus: String, gpu: String)] {
        var found: [String: (cpus: String, gpu: String)] = [:]
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) }
        for pid in pids ?? [] {
            guard let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let arguments = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == "worker",
                let index = arguments.firstIndex(of: "--label"), index + 1 < arguments.count,
                arguments[index + 1].hasPrefix("slurm:\(job)_")
            else { continue }
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let cpus =
                status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }.map {
                    $0.split(separator: "\t").last.map(String.init) ?? ""
                } ?? ""
            let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
            let gpu =
                environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.first {
                    $0.hasPrefix("CUDA_VISIBLE_DEVICES=")
                }.map { String($0.dropFirst("CUDA_VISIBLE_DEVICES=".count)) } ?? "none"
            found[arguments[index + 1]] = (cpus, gpu)
        }
        return found
    }
}
