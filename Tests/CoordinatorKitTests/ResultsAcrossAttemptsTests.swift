// ResultsAcrossAttemptsTests: a resumed cell's central results keep the best epoch's files of an earlier attempt.
import CoordinatorKit
import Foundation
import TestSupport
import TransferKit
import XCTest

private typealias F = LedgerFixtures

final class ResultsAcrossAttemptsTests: XCTestCase {
    /// Attempt 1 reached the best epoch (best.h5, predictions.h5) and was killed; attempt 2 resumed from its last.h5
    /// and never beat it, so it wrote only last.h5. The cell's results hold attempt 1's best files and attempt 2's
    /// last.h5; collection keeps every file they link; a restarted coordinator sees the same files.
    func testBestFilesOfAnEarlierAttemptReachTheResultsAndSurviveCollection() throws {
        let dir = TemporaryDirectory("results")
        let ledger = try Ledger(directory: dir.path)
        let store = try ArtifactStore(stateDirectory: dir.path)
        var cell = F.cell("a", position: 0)
        _ = try ledger.addCells([cell])
        let contents: [Character: String] = [
            "1": "best of attempt 1", "2": "predictions of attempt 1", "3": "last of attempt 1",
            "4": "last of attempt 2",
        ]
        for (digit, text) in contents {
            try ledger.addArtifact(F.artifact(digit))
            XCTAssertTrue(
                FileManager.default.createFile(
                    atPath: store.absolute("artifacts/\(F.id(digit))"), contents: Data(text.utf8)))
        }
        cell = F.running(cell, attempt: 1)
        try ledger.update(cell, startingAttempt: F.attempt(cell, 1))
        for (name, digit) in [("best.h5", "1"), ("predictions.h5", "2"), ("last.h5", "3")] as [(String, Character)] {
            try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 1, name: name, epoch: 2, sha256: F.id(digit)))
        }
        cell.resumeSHA256 = F.id("3")
        cell.resumeEpoch = 2
        try ledger.update(cell, endingAttempt: (1, "lost", "worker killed", 1))
        cell = F.running(cell, attempt: 2)
        try ledger.update(cell, startingAttempt: F.attempt(cell, 2))
        try ledger.addCellFile(CellFileRecord(cell: cell.id, attempt: 2, name: "last.h5", epoch: 6, sha256: F.id("4")))
        cell.state = .done
        cell.summaryJSON = #"{"best_epoch":2}"#
        try ledger.update(cell, endingAttempt: (2, "done", nil, 2))

        let files = try ledger.resultFiles(cell: cell.id, upTo: 2)
        XCTAssertEqual(files.map(\.name), ["best.h5", "last.h5", "predictions.h5"])
        XCTAssertEqual(files.map(\.attempt), [1, 2, 1])
        XCTAssertEqual(try ledger.resultFiles(cell: cell.id, upTo: 1).map(\.sha256), [F.id("1"), F.id("3"), F.id("2")])

        try ResultsWriter(ledger: ledger, store: store).write(cell)
        let run = store.absolute(ResultsWriter.relativeDirectory(variant: cell.variant, seed: cell.seed))
        for (name, digit) in [("best.h5", "1"), ("predictions.h5", "2"), ("last.h5", "4")] as [(String, Character)] {
            let text = try String(contentsOfFile: "\(run)/\(name)", encoding: .utf8)
            XCTAssertEqual(text, contents[digit], name)
        }
        // Collection keeps the files the results link, and attempt 1's last.h5 (a fallback resume point).
        XCTAssertEqual(try ledger.collectSupersededArtifacts().map(\.sha256), [])
        for digit in ["1", "2", "3", "4"] as [Character] { XCTAssertNotNil(try ledger.artifact(F.id(digit))) }
    }
}
