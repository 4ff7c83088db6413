// StatusTableTests: the status table's totals, the reason of every failed cell, and ETAs that are not finite.
import CoordinatorKit
import WireProtocol
import XCTest

final class StatusTableTests: XCTestCase {
    func testFailedCellsAreListedWithTheirReason() throws {
        var done = CellRecord(
            id: String(repeating: "1", count: 64), variant: "base", seed: 1, stage: "2", configJSON: "{}", position: 0,
            epochs: 5)
        done.state = .done
        var diverged = CellRecord(
            id: String(repeating: "2", count: 64), variant: "poly", seed: 2, stage: "2", configJSON: "{}", position: 1,
            epochs: 5)
        diverged.state = .failed
        diverged.reason = "diverged at epoch 1 (non-finite loss)"
        var silent = CellRecord(
            id: String(repeating: "3", count: 64), variant: "poly", seed: 3, stage: "2", configJSON: "{}", position: 2,
            epochs: 5)
        silent.state = .failed
        let cells = [done, diverged, silent]
        let lines = StatusTable.text(StatusTable.rows(cells), reasons: StatusTable.failureReasons(cells)).split(
            separator: "\n"
        ).map(String.init)
        XCTAssertEqual(
            Array(lines.suffix(3)),
            [
                "1/3 done, 0 running, 2 failed",
                "failed: poly seed 2: diverged at epoch 1 (non-finite loss)",
                "failed: poly seed 3: no reason recorded",
            ])
        XCTAssertEqual(
            StatusTable.text(StatusTable.rows(cells)).split(separator: "\n").last, "1/3 done, 0 running, 2 failed",
            "without reasons the totals stay the last line (live progress prints it)")
        // Rows from a running coordinator (`status --connect`) carry the reasons themselves.
        let rows = StatusTable.rows(cells)
        XCTAssertEqual(
            StatusTable.failureReasons(rows),
            [diverged.id: "diverged at epoch 1 (non-finite loss)", silent.id: "no reason recorded"])
        let decoded = try MessageCodec.decode(MessageCodec.encode(.statusReply(StatusReply(sweep: "s", rows: rows))))
        guard case .statusReply(let reply) = decoded else { return XCTFail("\(decoded)") }
        XCTAssertEqual(
            StatusTable.text(reply.rows, reasons: StatusTable.failureReasons(reply.rows)),
            StatusTable.text(rows, reasons: StatusTable.failureReasons(cells)))
    }

    func row(eta: Double?) -> StatusReply.Row {
        StatusReply.Row(
            cell: String(repeating: "a", count: 64), variant: "v", seed: 1, stage: "2", state: "running", worker: "w",
            attempt: 1, epoch: 1, epochs: 10, bestValMacroF1: 0.5, etaSeconds: eta)
    }

    /// A replica's long derived seed widens the seed column instead of shifting its row.
    func testLongSeedsKeepTheColumnsAligned() {
        var long = row(eta: 5)
        long.seed = 1_444_282_647
        let lines = StatusTable.text([row(eta: 5), long]).split(separator: "\n").map(String.init)
        // variant (7) + 2 + seed (10 digits) + 2: every row's stage where the header's is.
        XCTAssertEqual(lines[0].range(of: "stage")?.lowerBound.utf16Offset(in: lines[0]), 21)
        for line in lines[1...2] { XCTAssertEqual(Array(line)[19...21].map(String.init).joined(), "  2", line) }
    }

    func testETAsThatAreNotAFiniteNumberOfSecondsShowAsNone() {
        let text = StatusTable.text([row(eta: 125), row(eta: .nan), row(eta: .infinity), row(eta: -3), row(eta: 1e300)])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasSuffix("2m05s"))
        for line in lines[2...5] { XCTAssertTrue(line.hasSuffix("—"), line) }
    }
}
