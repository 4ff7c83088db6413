// DeployUnitTests: `systemd-analyze verify` on deploy/'s units, their options against the binary's, and shell syntax
// of the install and Slurm scripts.
import Foundation
import TestSupport
import XCTest

/// Checks the files under deploy/ with the tools that will run them (skipped where a tool is absent).
final class DeployUnitTests: XCTestCase {
    /// The repository root (this file is Tests/CLITests/DeployUnitTests.swift).
    private var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    private func tool(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)", "/usr/local/bin/\(name)"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    func testUnitsPassSystemdAnalyzeVerify() throws {
        guard let analyze = tool("systemd-analyze") else {
            throw XCTSkip("systemd-analyze is not installed (Debian package systemd); units not verified")
        }
        let directory = TemporaryDirectory("ablate-units")
        // verify checks that ExecStart's binary exists: point the units at the built one.
        var paths: [String] = []
        for unit in ["ablate-coordinator.service", "ablate-worker@.service"] {
            let text = try String(contentsOfFile: "\(root)/deploy/\(unit)", encoding: .utf8)
            XCTAssertTrue(text.contains("ExecStart=/usr/local/bin/ablate "), unit)
            directory.write(unit, text: text.replacingOccurrences(of: "/usr/local/bin/ablate", with: AblateBinary.path))
        }
        paths.append(directory.file("ablate-coordinator.service"))
        // A template is verified through an instance name linked to it.
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("ablate-worker@0.service"), withDestinationPath: "ablate-worker@.service")
        paths.append(directory.file("ablate-worker@0.service"))
        // The documented drop-in, loaded from the unit path as systemd would (a bad line in it is a complaint).
        try FileManager.default.createDirectory(
            atPath: directory.file("ablate-worker@.service.d"), withIntermediateDirectories: true)
        directory.write(
            "ablate-worker@.service.d/code.conf",
            text: try String(contentsOfFile: "\(root)/deploy/dropins/code-under-home.conf", encoding: .utf8))
        let result = try Subprocess.capture(
            analyze, ["verify", "--man=no"] + paths, environment: ["SYSTEMD_UNIT_PATH": "\(directory.path):"])
        let complaints = (result.stdout + result.stderr).split(separator: "\n").filter { $0.contains("ablate") }
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(complaints, [], "systemd-analyze warned about the units")
    }

    func testUnitsCarryTheRequiredSettings() throws {
        let coordinator = try String(contentsOfFile: "\(root)/deploy/ablate-coordinator.service", encoding: .utf8)
        let worker = try String(contentsOfFile: "\(root)/deploy/ablate-worker@.service", encoding: .utf8)
        for (name, text) in [("coordinator", coordinator), ("worker", worker)] {
            for line in [
                "Type=notify", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                "PrivateTmp=yes", "User=ablate", "StateDirectory=", "WatchdogSec=",
            ] {
                XCTAssertTrue(text.contains("\n\(line)"), "\(name) unit lacks \(line)")
            }
            XCTAssertTrue(text.contains("EnvironmentFile=/etc/ablate/"), name)
        }
        for part in [
            "Environment=CUDA_VISIBLE_DEVICES=%i", "--gpu %i", "--name %H-gpu%i", "CacheDirectory=",
            "WorkingDirectory=-/srv/ablate/code", "Environment=HOME=%S/ablate/worker-%i",
        ] {
            XCTAssertTrue(worker.contains(part), "worker unit lacks \(part)")
        }
        XCTAssertTrue(coordinator.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        // The coordinator serves a lab: no sweep of its own, every sweep under its state directory (docs/lab.md).
        let start = try execStart(coordinator)
        XCTAssertEqual(start.prefix(2), ["/usr/local/bin/ablate", "coordinator"], start.joined(separator: " "))
        XCTAssertTrue(start.contains("--lab"), "the coordinator unit does not serve a lab")
        for word in start where word.hasPrefix("--sweep") || word.contains("ABLATE_SWEEP") || word == "--keep-serving" {
            XCTFail("the coordinator unit names a sweep or a single-sweep option: \(word)")
        }
        XCTAssertEqual(value(after: "--state", in: start), "%S/ablate/coordinator")
        XCTAssertEqual(value(after: "--authorized-keys", in: start), "/etc/ablate/authorized-keys")
        XCTAssertEqual(start.last, "$ABLATE_COORDINATOR_ARGS", "extra arguments (a one-time --sweep) come last")
        // Its settings file names no sweep either, and documents the one-time --sweep of an upgrade.
        let settings = try String(contentsOfFile: "\(root)/deploy/etc/coordinator.env", encoding: .utf8)
        let assignments = settings.split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertFalse(assignments.contains { $0.hasPrefix("ABLATE_SWEEP") }, "coordinator.env still sets ABLATE_SWEEP")
        XCTAssertTrue(
            assignments.contains("ABLATE_COORDINATOR_ARGS="), "coordinator.env lacks ABLATE_COORDINATOR_ARGS=")
        XCTAssertTrue(
            settings.contains("ABLATE_COORDINATOR_ARGS=\"--sweep "), "coordinator.env lacks the --sweep example")
        for file in [
            "etc/coordinator.env", "etc/worker.env", "README.md", "install.sh", "slurm/ablate-workers.sbatch",
            "dropins/code-under-home.conf",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/deploy/\(file)"), file)
        }
    }

    /// Every option of each unit's ExecStart is one the built binary's command takes (its `--help` lists it).
    func testUnitOptionsAreTheBinarysOptions() throws {
        for unit in ["ablate-coordinator.service", "ablate-worker@.service"] {
            let start = try execStart(try String(contentsOfFile: "\(root)/deploy/\(unit)", encoding: .utf8))
            let command = try XCTUnwrap(start.dropFirst().first, unit)
            let help = try Subprocess.capture(AblateBinary.path, [command, "--help"])
            XCTAssertEqual(help.status, 0, help.stderr)
            let listed = Set(
                help.stdout.split(whereSeparator: { " ,\n<>=[]".contains($0) }).filter { $0.hasPrefix("--") }.map(
                    String.init))
            for option in start.filter({ $0.hasPrefix("--") }) {
                XCTAssertTrue(listed.contains(option), "\(unit): `ablate \(command)` has no option \(option)")
            }
        }
    }

    /// The words of a unit's ExecStart= line.
    private func execStart(_ unit: String) throws -> [String] {
        let line = try XCTUnwrap(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }, "no ExecStart=")
        return line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
    }

    /// The word after `option` in `words`, or nil.
    private func value(after option: String, in words: [String]) -> String? {
        guard let index = words.firstIndex(of: option), index + 1 < words.count else { return nil }
        return words[index + 1]
    }

    func testScriptsParse() throws {
        for (shell, script) in [
            ("sh", "deploy/install.sh"), ("bash", "deploy/slurm/ablate-workers.sbatch"),
            ("bash", "scripts/netns-lab.sh"), ("bash", "scripts/slurm-lab.sh"),
        ] {
            guard let path = tool(shell) else { continue }
            let result = try Subprocess.capture(path, ["-n", "\(root)/\(script)"])
            XCTAssertEqual(result.status, 0, "\(script): \(result.stderr)")
        }
    }
}
