// CommandLineSurfaceTests: help for every option, --version only at the top, short flags, unknown help topics.
import Foundation
import TestSupport
import WorkerKit
import XCTest

@testable import AblateCLI

final class CommandLineSurfaceTests: XCTestCase {
    /// Every visible option, flag and argument of every command, from the binary's help dump.
    private func arguments() throws -> [(command: String, names: [String], abstract: String)] {
        let dump = try AblateBinary.run(["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let root = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var found: [(String, [String], String)] = []
        func walk(_ command: [String: Any], path: [String]) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                if argument["shouldDisplay"] as? Bool == false { continue }
                let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                found.append((path.joined(separator: " "), names, argument["abstract"] as? String ?? ""))
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path: path + [sub["commandName"] as? String ?? "?"])
            }
        }
        walk(try XCTUnwrap(root["command"] as? [String: Any]), path: ["ablate"])
        return found
    }

    func testEveryVisibleOptionHasHelpText() throws {
        let all = try arguments()
        XCTAssertGreaterThan(all.count, 80, "the dump lists the options of every command")
        let bare = all.filter {
            $0.abstract.trimmingCharacters(in: .whitespaces).isEmpty && $0.command != "ablate help"
        }
        XCTAssertEqual(bare.map { "\($0.command) \($0.names)" }, [], "options without help text")
    }

    func testVersionIsOnlyAtTheTopLevel() throws {
        let all = try arguments()
        let withVersion = Set(all.filter { $0.names.contains("version") }.map(\.command))
        XCTAssertEqual(withVersion, ["ablate"])
        let version = try AblateBinary.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), AblateVersion.string)
        let local = try AblateBinary.run(["local", "--help"])
        XCTAssertFalse(local.stdout.contains("--version"), local.stdout)
    }

    func testShortFlagsOfTheCommonOptions() throws {
        let all = try arguments()
        func names(_ command: String, _ long: String) -> [String] {
            all.first { $0.command == command && $0.names.contains(long) }?.names ?? []
        }
        XCTAssertEqual(Set(names("ablate local", "sweep")), ["s", "sweep"])
        XCTAssertEqual(Set(names("ablate local", "workers")), ["w", "workers"])
        XCTAssertEqual(Set(names("ablate local", "threads")), ["t", "threads"])
        XCTAssertEqual(Set(names("ablate report", "out")), ["o", "out"])
        XCTAssertEqual(Set(names("ablate report", "format")), ["f", "format"])
        XCTAssertEqual(Set(names("ablate data synth", "out")), ["o", "out"])
        XCTAssertEqual(Set(names("ablate status", "connect")), ["c", "connect"])
        // A short flag reaches the same option: -w 0 is refused by local's own check, not as an unknown option.
        let refused = try AblateBinary.run(["local", "-w", "0", "--demo"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertFalse(refused.stderr.contains("Unknown option"), refused.stderr)
    }

    func testAnUnknownHelpTopicIsAnError() throws {
        let unknown = try AblateBinary.run(["help", "logs"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertEqual(unknown.stdout, "")
        XCTAssertTrue(
            unknown.stderr.hasPrefix("ablate: no help topic 'logs'; topics: local, coordinator"), unknown.stderr)
        let nested = try AblateBinary.run(["help", "data", "sink"])
        XCTAssertEqual(nested.status, 64)
        XCTAssertTrue(
            nested.stderr.contains("no help topic 'data sink'; topics: import, synth, inspect"), nested.stderr)
        let known = try AblateBinary.run(["help", "data", "synth"])
        XCTAssertEqual(known.status, 0)
        XCTAssertTrue(known.stdout.contains("USAGE: ablate data synth"), known.stdout)
        XCTAssertNil(HelpTopics.unknownTopic(in: ["help"]))
        XCTAssertNil(HelpTopics.unknownTopic(in: ["local", "help"]))
    }
}

extension CommandLineSurfaceTests {
    /// deploy/install.sh writes these; each must name the subcommands, and bash's must parse.
    func testCompletionScriptsForBashZshAndFish() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try AblateBinary.run(["--generate-completion-script", shell])
            XCTAssertEqual(script.status, 0, "\(shell): \(script.stderr)")
            for word in ["local", "coordinator", "report", "synth"] {
                XCTAssertTrue(script.stdout.contains(word), "\(shell) completion lacks \(word)")
            }
        }
        let bash = try AblateBinary.run(["--generate-completion-script", "bash"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ablate-completion-\(getpid()).bash")
        try Data(bash.stdout.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try Subprocess.capture("/bin/bash", ["-n", file.path])
        XCTAssertEqual(check.status, 0, check.stderr)
    }
}

extension CommandLineSurfaceTests {
    func testTrainsProgressLineOverwritesItselfAndTheNextLogLine() {
        let line = TrainingProgressLine.text(
            TrainingProgress(phase: .train, rowsDone: 10_752, rowsTotal: 25_600, rowsPerSecond: 3100.7))
        XCTAssertEqual(line, "\u{1B}[K  train 42% (10752 of 25600 rows, 3100 rows/s)\r")
        XCTAssertEqual(
            TrainingProgressLine.text(TrainingProgress(phase: .cache, rowsDone: 0, rowsTotal: 0, rowsPerSecond: nil)),
            "\u{1B}[K  cache 0% (0 of 0 rows)\r")
    }
}
