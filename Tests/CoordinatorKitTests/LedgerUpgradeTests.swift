// LedgerUpgradeTests: an older schema is refused by readers with the upgrade command named, and upgraded in place.
import Foundation
import GRDB
import TestSupport
import XCTest

@testable import CoordinatorKit

final class LedgerUpgradeTests: XCTestCase {
    /// A ledger with the migrations up to version 3 only, as an older ablate left it: readers refuse it naming
    /// `ablate ledger upgrade`; the upgrade applies the rest, after which readers open it and its cells are kept.
    func testVersion3LedgerIsUpgraded() throws {
        let directory = TemporaryDirectory()
        let queue = try DatabaseQueue(path: Ledger.filePath(in: directory.path))
        try LedgerSchema.migrator.migrate(queue, upTo: "v3")
        try queue.close()

        XCTAssertThrowsError(try Ledger(readingDirectory: directory.path)) { error in
            XCTAssertTrue(
                "\(error)".contains("`ablate ledger upgrade --state \(directory.path)` (or starting its coordinator)"),
                "\(error)")
        }
        XCTAssertEqual(try Ledger.upgrade(directory: directory.path), Ledger.Upgrade(from: 3, to: LedgerSchema.version))
        let writer = try Ledger(directory: directory.path)
        try writer.addCells([LedgerFixtures.cell("a", position: 0)])
        try writer.close()
        let reader = try Ledger(readingDirectory: directory.path)
        XCTAssertEqual(try reader.cells().map(\.id), [LedgerFixtures.id("a")])
        try reader.close()
        XCTAssertEqual(
            try Ledger.upgrade(directory: directory.path),
            Ledger.Upgrade(from: LedgerSchema.version, to: LedgerSchema.version),
            "idempotent, cells kept")
        XCTAssertThrowsError(try Ledger.upgrade(directory: directory.file("missing"))) { error in
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("missing")), "nothing made")
    }
}
