// SlurmLab: a one-node Slurm from scripts/slurm-lab.sh, a CURVE coordinator on loopback, and the Slurm commands.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Starts the lab in `directory/slurm` (skipping the test where it cannot run: not root, Slurm not installable),
/// runs sbatch/squeue/scancel against it, and stops every daemon and job it started.
final class SlurmLab {
    let directory: TemporaryDirectory
    let lab: String
    let processes: ServiceProcesses
    private(set) var endpoint = ""
    var state: String { directory.file("state") }
    var keys: String { directory.file("keys") }
    /// The worker's own processes' environment: the lab's config, and where the template puts work directories.
    var environment: [String: String?] { ["SLURM_CONF": "\(lab)/slurm.conf", "TMPDIR": directory.path] }

    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
    static var template: String { "\(root)/deploy/slurm/ablate-workers.sbatch" }

    init(directory: TemporaryDirectory) throws {
        guard getuid() == 0 else { throw XCTSkip("the Slurm lab needs root (slurmd runs jobs as root here); skipped") }
        self.directory = directory
        lab = directory.file("slurm")
        processes = ServiceProcesses(directory: directory)
        let started = try Subprocess.capture("/bin/bash", ["\(Self.root)/scripts/slurm-lab.sh", "start", lab])
        if started.status == 2 {
            throw XCTSkip(started.stderr.trimmingCharacters(in: .whitespacesAndNewlines) + "; skipped")
        }
        guard started.status == 0 else {
            _ = try? Subprocess.capture("/bin/bash", ["\(Self.root)/scripts/slurm-lab.sh", "stop", lab])
            XCTFail("the Slurm lab did not come up:\n\(started.stdout)\(started.stderr)")
            throw XCTSkip("no Slurm lab")
        }
    }

    /// Cancels every job and stops the daemons and the coordinator.
    func stop() {
        _ = try? Subprocess.capture("/bin/bash", ["\(Self.root)/scripts/slurm-lab.sh", "stop", lab])
        processes.stopAll()
    }

    /// Keys for a coordinator and one worker key shared by every task (as `~/.ablate/keys` on a cluster), the
    /// worker's public half authorized.
    func makeKeys() throws {
        for name in ["coordinator", "worker"] {
            let result = try AblateBinary.run(["keygen", "--out", keys, "--name", name])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let authorized = directory.file("authorized")
        try FileManager.default.createDirectory(atPath: authorized, withIntermediateDirectories: true)
        chmod(authorized, 0o755)
        try FileManager.default.copyItem(atPath: "\(keys)/worker.pub", toPath: "\(authorized)/worker.pub")
    }

    /// A coordinator with CURVE on a free loopback port; returns once it listens.
    func startCoordinator(sweep: String) throws {
        try processes.start(
            "slurm-coordinator",
            [
                "coordinator", "--sweep", sweep, "--state", state, "--bind", "tcp://127.0.0.1:*", "--heartbeat-ms",
                "400", "--curve-secret-key", "\(keys)/coordinator.key", "--authorized-keys",
                directory.file("authorized"),
            ])
        let log = try processes.waitForLog("slurm-coordinator", containing: "listening on", timeout: 60)
        endpoint = try XCTUnwrap(
            log.split(separator: "\n").first { $0.contains("listening on") }?.split(separator: " ").last.map(
                String.init))
    }

    /// The template's settings for workers against this coordinator (work directories under TMPDIR by default).
    var templateEnvironment: [String: String?] {
        environment.merging(
            ["ABLATE": AblateBinary.path, "ABLATE_COORDINATOR": endpoint, "ABLATE_KEYS": keys]) { $1 }
    }

    /// `sbatch --parsable ARGUMENTS` against the lab; returns the job id.
    func sbatch(_ arguments: [String], environment extra: [String: String?] = [:]) throws -> String {
        let result = try Subprocess.capture(
            "/usr/bin/env", ["sbatch", "--parsable"] + arguments,
            environment: templateEnvironment.merging(extra) { $1 })
        XCTAssertEqual(result.status, 0, result.stderr)
        let job = result.stdout.split(separator: "\n").first.map { String($0.split(separator: ";")[0]) } ?? ""
        guard !job.isEmpty, job.allSatisfy(\.isNumber) else {
            XCTFail("sbatch printed no job id: \(result.stdout) \(result.stderr)")
            throw XCTSkip("no job")
        }
        return job
    }

    /// Runs a Slurm client command (scancel, squeue, …) against the lab.
    @discardableResult
    func slurm(_ command: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Subprocess.capture("/usr/bin/env", [command] + arguments, environment: environment)
    }

    /// The jobs still in the queue (`squeue` lines, empty when none).
    func queue() -> [String] {
        let result = try? slurm("squeue", ["--noheader", "--format=%i %T"])
        return (result?.stdout ?? "?").split(separator: "\n").map(String.init)
    }

    /// `ablate status --connect` with the worker key.
    func status() -> String {
        let result = try? AblateBinary.run([
            "status", "--connect", endpoint, "--curve-secret-key", "\(keys)/worker.key", "--server-public-key",
            "\(keys)/coordinator.pub",
        ])
        return result?.stdout ?? ""
    }

    /// A task's output file (the template's `--output` as the tests set it).
    func output(_ job: String, _ task: Int) -> String {
        (try? String(contentsOfFile: directory.file("slurm-\(job)_\(task).out"), encoding: .utf8)) ?? ""
    }

    /// The outputs of every task and the daemons' and processes' log tails.
    func tails() -> String {
        let outputs = directory.entries().filter { $0.hasSuffix(".out") }.sorted().map { name in
            let text = (try? String(contentsOfFile: directory.file(name), encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(20).joined(separator: "\n")
        }
        let daemons = ["slurmctld", "slurmd"].map { name in
            let text = (try? String(contentsOfFile: "\(lab)/log/\(name).log", encoding: .utf8)) ?? ""
            return "--- \(name).log\n" + text.split(separator: "\n").suffix(10).joined(separator: "\n")
        }
        return (outputs + daemons).joined(separator: "\n") + "\n" + processes.tails()
    }

    /// Polls `condition` every 100 ms; fails with every output's tail after `timeout` seconds.
    func wait(_ what: String, timeout: Double, _ condition: () -> Bool) throws {
        try pollUntil(what, timeout: timeout, logs: tails, condition)
    }

    func cells() -> [CellRecord] { (try? Ledger(readingDirectory: state).cells()) ?? [] }
}
