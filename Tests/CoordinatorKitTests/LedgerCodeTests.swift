// LedgerCodeTests: cells' code in the ledger (schema 3), cells of an earlier release kept, and code changes announced.
import CoordinatorKit
import Foundation
import RunSpec
import TestSupport
import XCTest

final class LedgerCodeTests: XCTestCase {
    static let releaseLedger = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CLITests/Fixtures/release-state/state/ledger.sqlite").path

    static func record(_ text: String) -> CodeRecord {
        CodeRecord(files: [CodeFile(path: "train.py", sha256: String(repeating: text, count: 64))])
    }

    func testAnEarlierReleasesCellsHaveUnknownCode() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: Self.releaseLedger, toPath: directory.file(Ledger.fileName))
        let ledger = try Ledger(directory: directory.path)
        let cells = try ledger.cells()
        XCTAssertEqual(cells.count, 4)
        XCTAssertEqual(try ledger.codes(), Dictionary(uniqueKeysWithValues: cells.map { ($0.id, LedgerCode.unknown) }))
        XCTAssertEqual(
            Ledger.schemaVersion, 6, "version 4 added workers.gpus, version 5 cell_inputs, version 6 the client actions"
        )
    }

    func testADoneCellKeepsItsCodeAndOthersTakeTheLatest() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var done = LedgerFixtures.cell("a", position: 0)
        done.state = .done
        let pending = LedgerFixtures.cell("b", position: 1)
        try ledger.addCells([done, pending])
        let later = LedgerFixtures.id("c")
        try ledger.setCode([done.id: Self.record("1"), pending.id: Self.record("1"), later: Self.record("1")])
        var dirty = Self.record("2")
        dirty.dirty = true
        try ledger.setCode([done.id: dirty, pending.id: dirty])
        XCTAssertEqual(
            try ledger.codes(),
            [done.id: .known(Self.record("1")), pending.id: .known(dirty), later: .known(Self.record("1"))],
            "a cell not yet in the ledger (a later seed's) may have its code first")
        try ledger.close()
        let reader = try Ledger(readingDirectory: directory.path)
        XCTAssertEqual(try reader.codes()[pending.id], .known(dirty))
        try reader.close()
    }

    func testAKeptCellsAssumedCodeIsStoredOnce() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: Self.releaseLedger, toPath: directory.file(Ledger.fileName))
        let ledger = try Ledger(directory: directory.path)
        let cells = try ledger.cells().map(\.id)
        var assumed = Self.record("1")
        assumed.assumed = true
        try ledger.assumeCode([cells[0]: assumed])
        var other = Self.record("2")
        other.assumed = true
        try ledger.assumeCode([cells[0]: other, cells[1]: other])
        let codes = try ledger.codes()
        XCTAssertEqual(codes[cells[0]], .known(assumed), "an assumed code is not replaced")
        XCTAssertEqual(codes[cells[1]], .known(other))
        XCTAssertEqual(codes[cells[2]], .unknown)
    }

    func testPlanningSaysWhichVariantsCodeChanged() throws {
        let config = TrainingConfig(stage: .stage2)
        func cell(_ id: Character, _ variant: String, _ seed: UInt64, _ code: CodeRecord?) -> PlannedCell {
            PlannedCell(
                id: LedgerFixtures.id(id), variant: variant, seed: seed, stage: .stage2, config: config,
                dependsOn: nil, command: ["sh"], timeoutSeconds: nil, code: code)
        }
        func stored(_ id: Character, _ variant: String, _ seed: UInt64) -> CellRecord {
            CellRecord(
                id: LedgerFixtures.id(id), variant: variant, seed: seed, stage: "2", configJSON: "{}", position: 0,
                epochs: 1, state: .done)
        }
        let sweep = Sweep(
            name: "s", datasetPath: "/d", stage1: .none, baseline: "a", seeds: [1, 2],
            variants: [SweepVariant(name: "a", overrides: [], config: config)])
        let before = [stored("1", "a", 1), stored("2", "a", 2), stored("3", "b", 1), stored("4", "c", 1)]
        let codes: [String: LedgerCode] = [
            LedgerFixtures.id("1"): .known(Self.record("1")), LedgerFixtures.id("2"): .known(Self.record("1")),
            LedgerFixtures.id("3"): .known(Self.record("1")), LedgerFixtures.id("4"): .unknown,
        ]
        let plan = SweepPlan(
            sweep: sweep, stage1Cell: nil,
            cells: [
                cell("5", "a", 1, Self.record("2")), cell("6", "a", 2, Self.record("2")),
                cell("3", "b", 1, Self.record("1")), cell("7", "b", 2, Self.record("1")),
                cell("8", "c", 1, Self.record("2")),
            ])
        XCTAssertEqual(
            CodePlanning.changes(plan, before: before, codes: codes), ["variant a: code changed, 2 new cells"],
            "b's new seed has the same code; c's earlier cell has unknown code")

        let legacy = SweepPlan(
            sweep: sweep, stage1Cell: nil,
            cells: [
                cell("1", "a", 1, nil), cell("2", "a", 2, nil), cell("3", "b", 1, nil), cell("9", "b", 2, nil),
                cell("4", "c", 1, nil),
            ])
        let kept = CodePlanning.keepingEarlierCells(plan, legacy: legacy, cells: before, codes: codes)
        XCTAssertEqual(kept.kept, ["c": 1], "only a done cell of unknown code is kept")
        XCTAssertEqual(kept.plan.cells.map(\.id), ["5", "6", "3", "7", "4"].map { LedgerFixtures.id(Character($0)) })
        var assumed = Self.record("2")
        assumed.assumed = true
        XCTAssertEqual(kept.plan.cells.last?.code, assumed)
        XCTAssertEqual(kept.assumed, [LedgerFixtures.id("4"): assumed])

        // Planned again: with the same code the kept cell stays (silently); with other code it is replaced.
        var later = codes
        later[LedgerFixtures.id("4")] = .known(assumed)
        let same = CodePlanning.keepingEarlierCells(plan, legacy: legacy, cells: before, codes: later)
        XCTAssertEqual(same.plan.cells.last?.id, LedgerFixtures.id("4"))
        XCTAssertEqual(same.kept, [:])
        XCTAssertEqual(same.assumed, [:])
        var edited = plan
        edited.cells[4].code = Self.record("3")
        let other = CodePlanning.keepingEarlierCells(edited, legacy: legacy, cells: before, codes: later)
        XCTAssertEqual(other.plan.cells.last?.id, LedgerFixtures.id("8"))
        XCTAssertEqual(
            CodePlanning.changes(other.plan, before: before, codes: later),
            ["variant a: code changed, 2 new cells", "variant c: code changed, 1 new cell"])
    }
}
