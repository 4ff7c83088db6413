// StateLayoutCrashChild: a migration run in a child copy of the test process that SIGKILLs itself after a chosen step.
import AblateSupport
import Foundation
import TestSupport
import XCTest

@testable import CoordinatorKit

/// Runs as a test only in the child process (the environment names the directory and the step); elsewhere it is
/// skipped. The child migrates the directory and kills itself with SIGKILL right after step k is durable, printing
/// `LAYOUT-KILLED k` first; a migration with fewer steps ends and prints `LAYOUT-FINISHED`.
final class StateLayoutCrashChild: XCTestCase {
    static let directoryKey = "ABLATE_LAYOUT_CRASH_DIR"
    static let stepKey = "ABLATE_LAYOUT_CRASH_STEP"
    static let killedMarker = "LAYOUT-KILLED "
    static let finishedMarker = "LAYOUT-FINISHED"

    func testMigrateUntilKilled() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let directory = environment[Self.directoryKey], let step = environment[Self.stepKey].flatMap(Int.init)
        else {
            throw XCTSkip("runs only as the child process of StateLayoutTests")
        }
        _ = try StateLayout.migrate(single: directory, expectedSweep: StateLayoutFixture.sweep) { reached in
            guard reached == step else { return }
            FileHandle.standardOutput.write(Data("\(Self.killedMarker)\(reached)\n".utf8))
            kill(getpid(), SIGKILL)
        }
        FileHandle.standardOutput.write(Data("\(Self.finishedMarker)\n".utf8))
    }

    /// Runs this test process again, only `testMigrateUntilKilled`, on `directory`; returns its output and whether
    /// SIGKILL ended it.
    static func run(directory: String, killAfter step: Int) throws -> (output: String, killed: Bool) {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["CoordinatorKitTests.StateLayoutCrashChild/testMigrateUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[directoryKey] = directory
        environment[stepKey] = "\(step)"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return (String(decoding: output, as: UTF8.self), killed)
    }
}

/// A single-layout state directory as a stopped coordinator leaves it, and what tests compare of one.
enum StateLayoutFixture {
    typealias F = LedgerFixtures
    static let sweep = "depth"
    static let checkpoint = Array("checkpoint bytes".utf8)
    static let demoDataset = Array("a dataset the demo wrote inside the state directory".utf8)
    static let userDataset = Array("the user's dataset, outside the state directory".utf8)

    /// Fills `directory` (and `outside`, for the user's dataset): a ledger of sweep `depth` with a done, a running
    /// and a pending cell, a checkpoint in `artifacts/` linked from `runs/`, a dataset inside the directory
    /// registered by its absolute path (as `ablate local --demo` does), the user's dataset outside it, a backup of
    /// the ledger, logs, a report, a part file and the lock file.
    static func make(_ directory: String, outside: String) throws {
        _ = try StateLock(stateDirectory: directory)
        let ledger = try Ledger(directory: directory)
        try ledger.beginRun(sweepName: sweep, sweepText: sweepText(directory, outside: outside))
        let a = F.cell("a", position: 0)
        let b = F.cell("b", position: 1)
        try ledger.addCells([a, b, F.cell("c", position: 2)])
        try ledger.update(F.running(a, attempt: 1), startingAttempt: F.attempt(a, 1))
        var done = F.running(a, attempt: 1)
        done.state = .done
        done.epochsDone = 3
        try ledger.update(done, endingAttempt: (1, "done", nil, 1_700_000_400))
        try ledger.update(F.running(b, attempt: 1), startingAttempt: F.attempt(b, 1))
        _ = try ledger.appendMetrics(F.metrics(a, attempt: 1, seq: 1))

        let sha = SHA256Hex.of(checkpoint)
        try FileManager.default.createDirectory(atPath: "\(directory)/artifacts", withIntermediateDirectories: true)
        try write(checkpoint, "\(directory)/artifacts/\(sha)")
        try ledger.addArtifact(ArtifactRecord(sha256: sha, size: 16, path: "artifacts/\(sha)", addedAt: 1))
        try ledger.addCellFile(CellFileRecord(cell: a.id, attempt: 1, name: "best.h5", epoch: 3, sha256: sha))
        let run = "\(directory)/runs/variant-a/seed-1"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        guard link("\(directory)/artifacts/\(sha)", "\(run)/best.h5") == 0 else { throw FixtureError.link }
        try write(Array("{\"epoch\":1}\n".utf8), "\(run)/metrics.jsonl")

        try FileManager.default.createDirectory(atPath: "\(directory)/demo", withIntermediateDirectories: true)
        try write(demoDataset, "\(directory)/demo/block16.h5")
        try ledger.addArtifact(
            ArtifactRecord(
                sha256: SHA256Hex.of(demoDataset), size: Int64(demoDataset.count),
                path: "\(directory)/demo/block16.h5", addedAt: 1))
        try write(userDataset, "\(outside)/dataset.h5")
        try ledger.addArtifact(
            ArtifactRecord(
                sha256: SHA256Hex.of(userDataset), size: Int64(userDataset.count), path: "\(outside)/dataset.h5",
                addedAt: 1))
        try ledger.backup()
        try ledger.close()

        try FileManager.default.createDirectory(atPath: "\(directory)/logs", withIntermediateDirectories: true)
        try write(Array("a log line\n".utf8), "\(directory)/logs/coordinator.log")
        try write(Array("# report\n".utf8), "\(directory)/report.md")
        try FileManager.default.createDirectory(atPath: "\(directory)/incoming", withIntermediateDirectories: true)
        try write(Array("part".utf8), "\(directory)/incoming/\(F.id("e")).part")
    }

    enum FixtureError: Error { case link, write }

    /// The recorded sweep text: its dataset inside the state directory `directory` (as the demo's), its stage-1
    /// checkpoint outside.
    static func sweepText(_ directory: String, outside: String) -> String {
        "name: \(sweep)\ndataset: \(directory)/demo/block16.h5\nstage1_checkpoint: \(outside)/dataset.h5\n"
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw FixtureError.write }
    }

    /// What the ledger of `directory` holds that a migration must keep: every cell, its attempts and metrics, the
    /// artifacts and the recorded sweep.
    struct LedgerContent: Equatable {
        var sweep: String?
        var cells: [CellRecord]
        var attempts: [[AttemptRecord]]
        var metrics: [[MetricsRecord]]
        var artifacts: [ArtifactRecord?]
    }

    static func content(_ directory: String) throws -> LedgerContent {
        let ledger = try Ledger(readingDirectory: directory)
        defer { try? ledger.close() }
        let cells = try ledger.cells()
        let shas = [SHA256Hex.of(checkpoint), SHA256Hex.of(demoDataset), SHA256Hex.of(userDataset)]
        return LedgerContent(
            sweep: try ledger.sweepName(), cells: cells, attempts: try cells.map { try ledger.attempts(cell: $0.id) },
            metrics: try cells.map { try ledger.metrics(cell: $0.id, attempt: 1) },
            artifacts: try shas.map { try ledger.artifact($0) })
    }

    /// Every path under `directory`, relative, with `dir`, the SHA-256 of a file's bytes, or `database` for the
    /// SQLite files and `lock` for the lock file (whose pid and bytes differ between runs). The ledger's -wal and
    /// -shm files are left out: a reader of the ledger may leave them, empty.
    static func tree(_ directory: String) -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return result }
        while let relative = enumerator.nextObject() as? String {
            let path = "\(directory)/\(relative)"
            let name = URL(fileURLWithPath: relative).lastPathComponent
            if name.hasSuffix("-wal") || name.hasSuffix("-shm") {
                continue
            } else if StateLayout.isDirectory(path) {
                result[relative] = "dir"
            } else if name.hasPrefix("ledger.") {
                result[relative] = "database"
            } else if name == StateLock.fileName {
                result[relative] = "lock"
            } else {
                result[relative] = (try? SHA256Hex.ofFile(path)) ?? "unreadable"
            }
        }
        return result
    }
}
