// StatusTableTests: the status table renders any row a coordinator may send, ETAs that are not finite included.
import CoordinatorKit
import WireProtocol
import XCTest

/// Renders hand-made STATUS_REPLY rows.
final class StatusTableTests: XCTestCase {
    func row(eta: Double?) -> StatusReply.Row {
        StatusReply.Row(cell: String(repeating: "a", count: 64), variant: "v", seed: 1, stage: "2", state: "running", worker: "w",
                        attempt: 1, epoch: 1, epochs: 10, bestValMacroF1: 0.5, etaSeconds: eta)
    }

    func testETAsThatAreNotAFiniteNumberOfSecondsShowAsNone() {
        let text = StatusTable.text([row(eta: 125), row(eta: .nan), row(eta: .infinity), row(eta: -3), row(eta: 1e300)])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasSuffix("2m05s"))
        for line in lines[2...5] { XCTAssertTrue(line.hasSuffix("—"), line) }
    }
}
