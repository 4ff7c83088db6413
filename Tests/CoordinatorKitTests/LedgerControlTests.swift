// LedgerControlTests: the client actions' ledger state (schema v6) — cancelled variants and extension seeds survive a reopen.
import Foundation
import GRDB
import TestSupport
import XCTest

@testable import CoordinatorKit

final class LedgerControlTests: XCTestCase {
    func testCancelledVariantsAreReplacedAndSurviveAReopen() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        XCTAssertEqual(try ledger.cancelledVariants(), [])
        try ledger.setCancelledVariants(["b", "a"], at: 1)
        try ledger.setCancelledVariants(["b", "c"], at: 2)
        try ledger.close()
        let again = try Ledger(directory: directory.path)
        XCTAssertEqual(try again.cancelledVariants(), ["b", "c"])
        try again.setCancelledVariants([], at: 3)
        XCTAssertEqual(try again.cancelledVariants(), [])
    }

    func testAnExtensionStoresItsSeedsAndPlansItsCellsInOneTransaction() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        let first = LedgerFixtures.cell("a", position: 0)
        try ledger.addCells([first])
        try ledger.setPlan([first.id])
        let added = LedgerFixtures.cell("b", position: 1)
        let big = ExtensionSeed(variant: "v", seed: UInt64.max)
        let stored = try ledger.extend(
            seeds: [ExtensionSeed(variant: "v", seed: 45), big], cells: [added, first], at: 10)
        XCTAssertEqual(stored.map(\.id), [added.id, first.id], "a cell already there is kept as it is")
        try ledger.extend(seeds: [ExtensionSeed(variant: "v", seed: 45)], cells: [], at: 11)
        try ledger.close()
        let again = try Ledger(readingDirectory: directory.path)
        XCTAssertEqual(try again.extensionSeeds(), [ExtensionSeed(variant: "v", seed: 45), big], "each seed once")
        XCTAssertEqual(try again.plannedCells().map(\.id), [first.id, added.id])
    }

    func testSchemaSixAddsTheTablesToALedgerOfVersionFive() throws {
        XCTAssertEqual(Ledger.schemaVersion, 6)
        let directory = TemporaryDirectory()
        let queue = try DatabaseQueue(path: Ledger.filePath(in: directory.path))
        try LedgerSchema.migrator.migrate(queue, upTo: "v5")
        try queue.close()
        XCTAssertEqual(try Ledger.upgrade(directory: directory.path), Ledger.Upgrade(from: 5, to: 6))
        let ledger = try Ledger(directory: directory.path)
        try ledger.setCancelledVariants(["a"], at: 1)
        XCTAssertEqual(try ledger.cancelledVariants(), ["a"])
        XCTAssertEqual(try ledger.extensionSeeds(), [])
    }
}
