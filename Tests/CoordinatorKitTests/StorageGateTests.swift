// StorageGateTests: credit decisions on made-up free-space readings with a manual clock.
import CoordinatorKit
import TransferKit
import XCTest

final class StorageGateTests: XCTestCase {
    func testAdmissionLeavesTheReserveAndAPauseIsRecheckedEverySecond() {
        var gate = StorageGate(reserveBytes: 1_000, recheckSeconds: 1)
        XCTAssertTrue(gate.admit(4_000, freeBytes: 5_000, now: 0))
        XCTAssertNil(gate.statusLine)
        XCTAssertFalse(gate.recheckDue(now: 0))
        XCTAssertFalse(gate.admit(4_001, freeBytes: 5_000, now: 10))
        XCTAssertEqual(gate.shortage?.freeBytes, 5_000)
        XCTAssertEqual(gate.shortage?.neededBytes, 5_001)
        XCTAssertNil(gate.shortage?.failure)
        XCTAssertEqual(gate.shortage?.since, 10)
        XCTAssertEqual(gate.statusLine, "paused: state directory full (0.0 MB free, need 0.0 MB)")
        XCTAssertFalse(gate.recheckDue(now: 10.5))
        XCTAssertTrue(gate.recheckDue(now: 11))
        gate.writeFailed("No space left on device", bytes: 200, freeBytes: 0, now: 12)
        XCTAssertEqual(gate.shortage?.since, 10, "the pause keeps its start")
        XCTAssertEqual(gate.shortage?.neededBytes, 1_200)
        XCTAssertEqual(gate.shortage?.failure, "No space left on device")
        XCTAssertFalse(gate.recheckDue(now: 12.9))
        gate.resume()
        XCTAssertNil(gate.shortage)
        XCTAssertFalse(gate.recheckDue(now: 100))
        var big = StorageGate(reserveBytes: 256_000_000)
        XCTAssertFalse(big.admit(1, freeBytes: 200_000_000, now: 0), "the reserve alone does not fit")
        XCTAssertFalse(big.admit(264_000_000, freeBytes: 3_200_000, now: 0))
        XCTAssertEqual(big.statusLine, "paused: state directory full (3.2 MB free, need 520.0 MB)")
    }
}
