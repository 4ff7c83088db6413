// LedgerInputsTests: cells' inputs in the ledger (schema 5) — a done cell keeps the inputs it ran with, others take the latest.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class LedgerInputsTests: XCTestCase {
    func testADoneCellKeepsItsInputsAndAnEarlierReleasesLedgerHasNone() throws {
        let directory = TemporaryDirectory()
        let ledger = try Ledger(directory: directory.path)
        var done = LedgerFixtures.cell("a", position: 0)
        done.state = .done
        let pending = LedgerFixtures.cell("b", position: 1)
        try ledger.addCells([done, pending])
        let later = LedgerFixtures.id("c")
        try ledger.setInputs([done.id: "{\"x\":1}", pending.id: "{\"x\":1}", later: "{\"x\":1}"])
        try ledger.setInputs([done.id: "{\"x\":2}", pending.id: "{\"x\":2}"])
        XCTAssertEqual(try ledger.inputs(), [done.id: "{\"x\":1}", pending.id: "{\"x\":2}", later: "{\"x\":1}"])

        let old = TemporaryDirectory()
        try FileManager.default.copyItem(
            atPath: LedgerCodeTests.releaseLedger, toPath: old.file(Ledger.fileName))
        XCTAssertEqual(try Ledger(directory: old.path).inputs(), [:], "the upgrade adds an empty table")
    }
}
