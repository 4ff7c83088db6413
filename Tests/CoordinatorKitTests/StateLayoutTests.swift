// StateLayoutTests: single and lab layouts told apart, a lab created, and a single directory migrated into a lab.
import AblateSupport
import Foundation
import GRDB
import TestSupport
import TransferKit
import XCTest

@testable import CoordinatorKit

final class StateLayoutTests: XCTestCase {
    typealias Fixture = StateLayoutFixture

    // MARK: - Kind

    func testKindOfAMissingAndAnEmptyDirectoryIsEmpty() throws {
        let dir = TemporaryDirectory("layout")
        XCTAssertEqual(try StateLayout.kind(of: dir.file("nowhere")), .empty)
        XCTAssertEqual(try StateLayout.kind(of: dir.path), .empty)
    }

    func testKindOfASingleDirectoryNamesItsSweep() throws {
        let dir = TemporaryDirectory("layout")
        let outside = TemporaryDirectory("layout-user")
        try Fixture.make(dir.path, outside: outside.path)
        let before = dir.entries()
        XCTAssertEqual(try StateLayout.kind(of: dir.path), .single(sweep: Fixture.sweep))
        // Reading the ledger may leave its (empty) -wal and -shm files, as `ablate status --state` does.
        XCTAssertEqual(dir.entries().filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }, before)
    }

    func testKindOfALab() throws {
        let dir = TemporaryDirectory("layout")
        try StateLayout.createLab(at: dir.path)
        XCTAssertEqual(try StateLayout.kind(of: dir.path), .lab)
    }

    func testKindOfADirectoryThatIsNeitherIsOneLineNamingIt() throws {
        let dir = TemporaryDirectory("layout")
        dir.write("notes.txt", text: "hello")
        dir.write("data/x", text: "x")
        XCTAssertThrowsError(try StateLayout.kind(of: dir.path)) { error in
            XCTAssertEqual(
                "\(error)",
                "\(dir.path): not a state directory: no lab.json or ledger.sqlite at its top (it holds data, notes.txt)"
            )
        }
        dir.write("file", text: "x")
        XCTAssertThrowsError(try StateLayout.kind(of: dir.file("file"))) { error in
            XCTAssertEqual("\(error)", "\(dir.file("file")): not a directory")
        }
    }

    func testKindRefusesAMarkerOfAnotherVersionAndBothMarkerAndLedger() throws {
        let dir = TemporaryDirectory("layout")
        dir.write("lab.json", text: #"{"layout":"lab","version":2}"#)
        XCTAssertThrowsError(try StateLayout.kind(of: dir.path)) { error in
            XCTAssertEqual(
                "\(error)", "\(dir.file("lab.json")): lab layout version 2; this build of ablate reads version 1")
        }
        let both = TemporaryDirectory("layout")
        let outside = TemporaryDirectory("layout-user")
        try Fixture.make(both.path, outside: outside.path)
        try StateLayout.createLab(at: both.path)
        XCTAssertThrowsError(try StateLayout.kind(of: both.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(both.path): holds both lab.json and ledger.sqlite"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    // MARK: - Lab

    func testCreateLabIsIdempotent() throws {
        let dir = TemporaryDirectory("layout")
        let lab = dir.file("lab")
        try StateLayout.createLab(at: lab)
        let marker = try String(contentsOfFile: "\(lab)/lab.json", encoding: .utf8)
        XCTAssertEqual(marker, #"{"layout":"lab","version":1}"# + "\n")
        try FileManager.default.createDirectory(
            atPath: StateLayout.sweepDirectory(lab: lab, name: "a"), withIntermediateDirectories: true)
        try StateLayout.createLab(at: lab)
        XCTAssertEqual(dir.entries("lab"), ["lab.json", "sweeps", "uploads"])
        XCTAssertEqual(try String(contentsOfFile: "\(lab)/lab.json", encoding: .utf8), marker)
        XCTAssertEqual(try StateLayout.sweepNames(lab: lab), ["a"])
    }

    func testSweepNamesAreSortedAndIgnoreDotEntries() throws {
        let dir = TemporaryDirectory("layout")
        try StateLayout.createLab(at: dir.path)
        for name in ["b", "a.2", ".migrating-c", "A"] {
            try FileManager.default.createDirectory(
                atPath: StateLayout.sweepDirectory(lab: dir.path, name: name), withIntermediateDirectories: true)
        }
        dir.write("sweeps/stray-file", text: "x")
        XCTAssertEqual(try StateLayout.sweepNames(lab: dir.path), ["A", "a.2", "b"])
        XCTAssertEqual(StateLayout.sweepDirectory(lab: dir.path, name: "b"), "\(dir.path)/sweeps/b")
    }

    // MARK: - Migration

    /// Everything moves into `sweeps/depth/` but the lock; the ledger keeps every cell, attempt and metric; the
    /// artifacts resolve and verify from the new place (the one registered by an absolute path inside the
    /// directory now relative, the user's dataset untouched).
    func testMigrateMovesEverythingAndKeepsTheLedger() throws {
        let dir = TemporaryDirectory("layout")
        let outside = TemporaryDirectory("layout-user")
        try Fixture.make(dir.path, outside: outside.path)
        let before = try Fixture.content(dir.path)
        let tree = Fixture.tree(dir.path)

        let sweep = try StateLayout.migrate(single: dir.path, expectedSweep: Fixture.sweep)

        XCTAssertEqual(sweep, "\(dir.path)/sweeps/depth")
        XCTAssertEqual(dir.entries(), ["coordinator.lock", "lab.json", "sweeps", "uploads"])
        XCTAssertEqual(dir.entries("sweeps"), ["depth"])
        XCTAssertEqual(dir.entries("uploads"), [])
        XCTAssertEqual(try StateLayout.kind(of: dir.path), .lab)
        XCTAssertEqual(try StateLayout.kind(of: sweep), .single(sweep: Fixture.sweep))
        XCTAssertEqual(try StateLayout.sweepNames(lab: dir.path), ["depth"])
        XCTAssertFalse(StateLayout.isMigrating(dir.path))
        var moved = tree.filter { $0.key != "coordinator.lock" }
        moved = Dictionary(uniqueKeysWithValues: moved.map { ("sweeps/depth/\($0.key)", $0.value) })
        let after = Fixture.tree(dir.path).filter { $0.key.hasPrefix("sweeps/depth/") }
        XCTAssertEqual(after, moved)

        var content = try Fixture.content(sweep)
        XCTAssertEqual(content.artifacts[1]?.path, "demo/block16.h5")
        XCTAssertEqual(content.artifacts[2]?.path, before.artifacts[2]?.path, "the user's file keeps its path")
        content.artifacts[1]?.path = before.artifacts[1]?.path ?? ""
        XCTAssertEqual(content, before, "no cell redone")
        try assertArtifactsServed(sweep)
        try assertSweepTextMoved(sweep, lab: dir.path, outside: outside.path)
        XCTAssertEqual(try Ledger(directory: sweep).beginRun(sweepName: Fixture.sweep, sweepText: ""), 2)

        // The backup, restored, resolves the same way.
        _ = try Ledger.recover(directory: sweep)
        try assertArtifactsServed(sweep)

        // Run again on the finished lab: nothing to do.
        XCTAssertEqual(try StateLayout.migrate(single: dir.path, expectedSweep: Fixture.sweep), sweep)
        XCTAssertThrowsError(try StateLayout.migrate(single: dir.path, expectedSweep: "other")) { error in
            XCTAssertEqual("\(error)", "\(dir.path): already a lab, and it holds no sweep 'other'")
        }
    }

    func testAnotherSweepNameIsRefusedWithNothingChanged() throws {
        let dir = TemporaryDirectory("layout")
        let outside = TemporaryDirectory("layout-user")
        try Fixture.make(dir.path, outside: outside.path)
        let tree = Fixture.tree(dir.path)
        XCTAssertThrowsError(try StateLayout.migrate(single: dir.path, expectedSweep: "width")) { error in
            XCTAssertEqual(
                "\(error)", "\(dir.path): its ledger records sweep 'depth', not 'width'; nothing was migrated")
        }
        XCTAssertEqual(Fixture.tree(dir.path), tree)
        XCTAssertThrowsError(try StateLayout.migrate(single: dir.path, expectedSweep: "../x")) { error in
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertEqual(Fixture.tree(dir.path), tree)
        XCTAssertEqual(try StateLayout.kind(of: dir.path), .single(sweep: Fixture.sweep))
    }

    func testADirectoryHeldByACoordinatorIsRefusedWithNothingChanged() throws {
        let dir = TemporaryDirectory("layout")
        let outside = TemporaryDirectory("layout-user")
        try Fixture.make(dir.path, outside: outside.path)
        let tree = Fixture.tree(dir.path)
        let before = try Fixture.content(dir.path)
        var lock: StateLock? = try StateLock(stateDirectory: dir.path)
        XCTAssertThrowsError(try StateLayout.migrate(single: dir.path, expectedSweep: Fixture.sweep)) { error in
            XCTAssertEqual(
                "\(error)",
                "cannot migrate: \(dir.path): in use by another coordinator (pid \(getpid())); stop it or use another --state"
            )
        }
        XCTAssertEqual(Fixture.tree(dir.path), tree)
        XCTAssertEqual(try Fixture.content(dir.path), before)
        lock = nil
        XCTAssertNil(lock)
        XCTAssertNoThrow(try StateLayout.migrate(single: dir.path, expectedSweep: Fixture.sweep))
    }

    func testADirectoryWithoutALedgerIsRefused() throws {
        let dir = TemporaryDirectory("layout")
        dir.write("notes.txt", text: "hello")
        XCTAssertThrowsError(try StateLayout.migrate(single: dir.path, expectedSweep: "depth")) { error in
            XCTAssertEqual(
                "\(error)", "\(dir.path): no ledger.sqlite at its top; not a single-sweep state directory")
        }
        XCTAssertEqual(dir.entries(), ["notes.txt"])
    }

    /// Only paths that start under the directory move: not a longer name beside it, not the same path under
    /// another root, not a path moved already.
    func testRecordedPathsMoveOnlyUnderTheDirectory() {
        let text = "a: /s/x/a\nb: /s/xy/b\nc: /t/s/x/c\nd: /s/x/sweeps/n/d\ne: '/s/x/e'\nf: [/s/x]\n"
        XCTAssertEqual(
            Ledger.relocatedText(text, inside: ["/s/x"], movingTo: "sweeps/n"),
            "a: /s/x/sweeps/n/a\nb: /s/xy/b\nc: /t/s/x/c\nd: /s/x/sweeps/n/d\ne: '/s/x/sweeps/n/e'\nf: [/s/x]\n")
        XCTAssertEqual(Ledger.relativePath("/s/x/artifacts/a", inside: ["/r/x", "/s/x/"]), "artifacts/a")
        XCTAssertNil(Ledger.relativePath("/s/xy/a", inside: ["/s/x"]))
        XCTAssertNil(Ledger.relativePath("/s/x", inside: ["/s/x"]))
    }

    /// A child process migrates and is SIGKILLed right after step k, for every k until the migration has no step
    /// k left; `kind` then reads the directory as the sweep (or the lab, once done), `migrate` finishes it, and the
    /// result equals an uninterrupted migration's, with the same ledger.
    func testAMigrationKilledAfterAnyStepIsFinishedByTheNext() throws {
        let outside = TemporaryDirectory("layout-user")
        let reference = TemporaryDirectory("layout-reference")
        try Fixture.make(reference.path, outside: outside.path)
        let before = try Fixture.content(reference.path)
        let referenceSweep = try StateLayout.migrate(single: reference.path, expectedSweep: Fixture.sweep)
        let expectedTree = Fixture.tree(reference.path)
        let expectedContent = try Fixture.content(referenceSweep)
        XCTAssertEqual(expectedContent.cells, before.cells)

        var step = 0
        while true {
            let dir = TemporaryDirectory("layout-kill-\(step)")
            try Fixture.make(dir.path, outside: outside.path)
            let (output, killed) = try StateLayoutCrashChild.run(directory: dir.path, killAfter: step)
            if !killed {
                XCTAssertTrue(output.contains(StateLayoutCrashChild.finishedMarker), output)
                XCTAssertEqual(Fixture.tree(dir.path), expectedTree)
                break
            }
            XCTAssertTrue(output.contains("\(StateLayoutCrashChild.killedMarker)\(step)"), output)
            let kind = try StateLayout.kind(of: dir.path)
            XCTAssertTrue(kind == .single(sweep: Fixture.sweep) || kind == .lab, "step \(step): \(kind)")
            // Step 0 is before the journal: nothing has changed yet.
            XCTAssertEqual(StateLayout.isMigrating(dir.path), step > 0 && kind != .lab, "step \(step)")
            let sweep = try StateLayout.migrate(single: dir.path, expectedSweep: Fixture.sweep)
            XCTAssertEqual(Fixture.tree(dir.path), expectedTree, "step \(step)")
            XCTAssertEqual(try Fixture.content(sweep), expectedContent, "step \(step)")
            try assertArtifactsServed(sweep)
            try assertSweepTextMoved(sweep, lab: dir.path, outside: outside.path)
            step += 1
        }
        // Kill points 0…15: locked, journal, ledger paths, sweeps/, staging, 8 entries moved, staging renamed, lab
        // marker, journal removed.
        XCTAssertEqual(step, 16)
    }

    /// The recorded sweep text (and its backup's) names the dataset inside the directory at its new place, the
    /// file outside where it was.
    private func assertSweepTextMoved(
        _ directory: String, lab: String, outside: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let expected = Fixture.sweepText("\(lab)/sweeps/\(Fixture.sweep)", outside: outside)
        let ledger = try Ledger(readingDirectory: directory)
        defer { try? ledger.close() }
        XCTAssertEqual(try ledger.sweepText(), expected, file: file, line: line)
        let backup = try DatabaseQueue(path: "\(directory)/\(Ledger.backupFileName)")
        defer { try? backup.close() }
        let text = try backup.read { try String.fetchOne($0, sql: "SELECT sweep_text FROM meta") }
        XCTAssertEqual(text, expected, file: file, line: line)
    }

    /// Each artifact of the fixture resolves through the store of `directory` to a file whose bytes match.
    private func assertArtifactsServed(
        _ directory: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let ledger = try Ledger(readingDirectory: directory)
        defer { try? ledger.close() }
        let store = try ArtifactStore(stateDirectory: directory)
        for bytes in [Fixture.checkpoint, Fixture.demoDataset, Fixture.userDataset] {
            let sha = SHA256Hex.of(bytes)
            let record = try XCTUnwrap(try ledger.artifact(sha), file: file, line: line)
            XCTAssertNil(store.verify(store.absolute(record.path), sha256: sha), record.path, file: file, line: line)
        }
        let linked = "\(directory)/runs/variant-a/seed-1/best.h5"
        XCTAssertEqual(try SHA256Hex.ofFile(linked), SHA256Hex.of(Fixture.checkpoint), file: file, line: line)
    }
}
