// LedgerCollectionTests: which received checkpoints are superseded and may be deleted; which cells are planned.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

private typealias F = LedgerFixtures

final class LedgerCollectionTests: XCTestCase {
    /// Kept: an attempt's current files (any attempt), a cell's resume point, registered files outside the store.
    /// Removed: a received checkpoint that a later epoch's file replaced in its attempt's file list.
    func testOnlyCheckpointsNoFileListOrResumePointNamesAreCollected() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        let cell = F.cell("a", position: 0)
        _ = try ledger.addCells([cell])
        var running = F.running(cell, attempt: 1)
        try ledger.update(running, startingAttempt: F.attempt(cell, 1))
        for digit in ["1", "2", "3", "4"] as [Character] { try ledger.addArtifact(F.artifact(digit)) }
        try ledger.addArtifact(ArtifactRecord(sha256: F.id("5"), size: 9, path: "/data/dataset.h5", addedAt: 0))
        // Epoch 1's best.h5 (artifact 1) is replaced by epoch 2's (artifact 2); last.h5 of epoch 2 (3) is the resume point.
        try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: "best.h5", epoch: 1, sha256: F.id("1")))
        try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: "best.h5", epoch: 2, sha256: F.id("2")))
        running.resumeSHA256 = F.id("3")
        running.resumeEpoch = 2
        try ledger.update(running)

        let removed = try ledger.collectSupersededArtifacts()
        XCTAssertEqual(removed.map(\.sha256), [F.id("1"), F.id("4")])
        XCTAssertNil(try ledger.artifact(F.id("1")))
        for kept in ["2", "3", "5"] as [Character] {
            XCTAssertNotNil(try ledger.artifact(F.id(kept)), "artifact \(kept) kept")
        }
        XCTAssertEqual(try ledger.collectSupersededArtifacts(), [], "a second pass finds nothing")
        XCTAssertEqual(try ledger.orphanArtifactFiles([F.id("1"), F.id("2"), "stray"]), [F.id("1"), "stray"])
    }
}

/// The plan: cells of the sweep as last submitted, apart from cells an edited variant left behind.
final class LedgerPlanTests: XCTestCase {
    func testPlannedCellsAreTheLastSubmittedOnesAndTheRestKeepTheirHistory() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        let (a, b, c) = (F.cell("a", position: 0), F.cell("b", position: 1), F.cell("c", position: 2))
        _ = try ledger.addCells([a, b])
        XCTAssertEqual(try ledger.plannedCells().map(\.id), [a.id, b.id], "with no plan set, every cell is planned")
        _ = try ledger.addCells([c])
        try ledger.setPlan([a.id, c.id])
        XCTAssertEqual(try ledger.plannedCells().map(\.id), [a.id, c.id])
        XCTAssertEqual(try ledger.cells().map(\.id), [a.id, b.id, c.id], "the replaced cell stays in the ledger")
        let reader = try Ledger(readingDirectory: dir.path)
        XCTAssertEqual(try reader.plannedCells().map(\.id), [a.id, c.id])
    }
}
