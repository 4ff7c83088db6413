// ReleaseStateResumeTests: a state directory written by the release before the settings table resumes with no cell redone.
import Foundation
import TestSupport
import XCTest

/// `Fixtures/release-state` holds what the earlier release left after `ablate local --sweep sweep.yaml --state state`
/// finished a sweep of two command variants × two seeds (its ledger and the cells' results; logs, reports and worker
/// directories left out). The cells' ids were computed by that release; the sweep sets a loss, its parameter and a
/// learning rate, so the ids cover settings of every kind the ledger stores.
final class ReleaseStateResumeTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/release-state").path

    func testTheEarlierReleasesStateDirectoryResumesWithNoCellRedone() throws {
        let directory = TemporaryDirectory()
        let copy = directory.file("release-state")
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: copy)
        // As the release ran it: from the sweep's directory (the dataset and the command are relative to it).
        let result = try Subprocess.capture(
            "/bin/sh",
            ["-c", "cd \"$0\" && exec \"$1\" local --sweep sweep.yaml --state state", copy, AblateBinary.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("sweep resume-fixture: 4 cells (0 new, 4 done)"), result.stdout)
        // No worker ran a cell: nothing was assigned, so no worker wrote a run directory.
        let workers = "\(copy)/state/workers"
        let runs = (FileManager.default.enumerator(atPath: workers)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix("metrics.jsonl") }
        XCTAssertEqual(runs, [], "a cell was trained again")
        // The report holds both variants' seeds from the earlier release's results.
        let report = try String(contentsOfFile: "\(copy)/state/report.md", encoding: .utf8)
        XCTAssertTrue(report.contains("| base | 2 |"), report)
        XCTAssertTrue(report.contains("| faster | 2 |"), report)
    }
}
