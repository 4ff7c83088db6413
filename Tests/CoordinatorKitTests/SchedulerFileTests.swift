// SchedulerFileTests: the files an attempt stores — a late copy of an older epoch never replaces a newer one.
import CoordinatorKit
import WireProtocol
import XCTest

extension SchedulerTests {
    /// An older epoch's `best.h5` arriving after a newer one (resent after a reconnect) is acknowledged but not
    /// recorded; the newer epoch's file stays the attempt's, and a forgotten artifact is transferred again.
    func testALateOlderEpochFileDoesNotReplaceTheNewerOne() {
        var scheduler = makeScheduler([Self.cell(1)])
        _ = scheduler.handle(hello("w1"), from: peerA, now: 0)
        let newer = ArtifactRef(name: "best.h5", sha256: String(repeating: "b", count: 64), size: 10)
        let older = ArtifactRef(name: "best.h5", sha256: String(repeating: "a", count: 64), size: 10)
        let recorded = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 5, file: newer, peer: peerA)
        XCTAssertTrue(
            recorded.contains { if case .recordCellFile(let file) = $0 { file.sha256 == newer.sha256 } else { false } })
        let late = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 3, file: older, peer: peerA)
        XCTAssertFalse(late.contains { if case .recordCellFile = $0 { true } else { false } }, "\(late)")
        XCTAssertEqual(sent(late, to: peerA), [.stored(Stored(sha256: older.sha256, status: .ok))])

        let offer = Offer(cell: Self.cellID(1), attempt: 1, epoch: 5, file: newer)
        XCTAssertEqual(
            sent(scheduler.handle(.offer(offer), from: peerA, now: 1), to: peerA),
            [.stored(Stored(sha256: newer.sha256, status: .ok))],
            "a held artifact is acknowledged at once")
        scheduler.forgetArtifacts([newer.sha256])
        let again = scheduler.handle(.offer(offer), from: peerA, now: 2)
        XCTAssertTrue(
            again.contains { if case .acceptOffer = $0 { true } else { false } },
            "a forgotten artifact is received again: \(again)")
    }
}
