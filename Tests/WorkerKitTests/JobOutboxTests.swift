// JobOutboxTests: what a job owes the coordinator — metrics until acknowledged, files by credit, outcome last.
import WireProtocol
import WorkerKit
import XCTest

/// Checks JobOutbox against docs/protocol.md items 8–11.
final class JobOutboxTests: XCTestCase {
    let cell = String(repeating: "a", count: 64)

    func report(_ epoch: Int) -> MetricsReport {
        MetricsReport(
            cell: cell, attempt: 1, seq: epoch, epoch: epoch, valMacroF1: 0.5, valLoss: 1, trainLoss: 1, seconds: 1,
            record: "{}")
    }

    func file(_ name: String, size: Int64, sha: Character = "b") -> OutgoingFile {
        OutgoingFile(
            ref: ArtifactRef(name: name, sha256: String(repeating: sha, count: 64), size: size), epoch: 1,
            path: "/dev/null")
    }

    func testMetricsStayUntilAcknowledgedAndAreResentOnANewSession() {
        var outbox = JobOutbox(cell: cell, attempt: 1, epoch: 0)
        XCTAssertEqual(
            outbox.addEpoch(report(1), files: [], connected: false), [], "nothing is sent while disconnected")
        XCTAssertEqual(outbox.addEpoch(report(2), files: [], connected: true), [.metrics(report(2))])
        outbox.acknowledge(seq: 1)
        XCTAssertEqual(outbox.resendAll(), [.metrics(report(2))])
        outbox.acknowledge(seq: 2)
        XCTAssertEqual(outbox.resendAll(), [])
        XCTAssertEqual(outbox.progress.epoch, 2)
    }

    func testChunksFollowCreditFromTheOfferedOffset() {
        var outbox = JobOutbox(cell: cell, attempt: 1, epoch: 0)
        let last = file("last.h5", size: 1000)
        let sent = outbox.addEpoch(report(1), files: [last], connected: true)
        XCTAssertEqual(sent.last, .offer(Offer(cell: cell, attempt: 1, epoch: 1, file: last.ref)))
        // The coordinator already holds 300 bytes (a resumed transfer) and grants 2 chunks of 256 bytes.
        let first = outbox.credit(Credit(sha256: last.ref.sha256, offset: 300, chunks: 2), chunkBytes: 256)
        XCTAssertEqual(first.map(\.offset), [300, 556])
        XCTAssertEqual(first.map(\.length), [256, 256])
        // Credit after the first chunk extends the window; the tail is the remainder.
        let more = outbox.credit(Credit(sha256: last.ref.sha256, offset: 556, chunks: 2), chunkBytes: 256)
        XCTAssertEqual(more.map(\.offset), [812])
        XCTAssertEqual(more.map(\.length), [188])
    }

    /// A chunk that could not be queued is never followed by credit alone (a CREDIT after a gap carries the offset
    /// the coordinator holds, which the worker cannot tell from an ordinary one); the new session that the worker
    /// opens instead offers the file again and sends from the offset of the CREDIT that answers.
    func testANewSessionResendsFromTheOffsetTheCoordinatorHolds() {
        var outbox = JobOutbox(cell: cell, attempt: 1, epoch: 0)
        let last = file("last.h5", size: 1000)
        _ = outbox.addEpoch(report(1), files: [last], connected: true)
        XCTAssertEqual(
            outbox.credit(Credit(sha256: last.ref.sha256, offset: 0, chunks: 2), chunkBytes: 256).map(\.offset),
            [0, 256])
        // The chunk at 256 was lost; the coordinator's gap CREDIT from 256 does not rewind a session in progress.
        XCTAssertEqual(
            outbox.credit(Credit(sha256: last.ref.sha256, offset: 256, chunks: 2), chunkBytes: 256).map(\.offset), [512]
        )
        let resent = outbox.resendAll()
        XCTAssertEqual(resent, [.metrics(report(1)), .offer(Offer(cell: cell, attempt: 1, epoch: 1, file: last.ref))])
        XCTAssertEqual(
            outbox.credit(Credit(sha256: last.ref.sha256, offset: 256, chunks: 4), chunkBytes: 256).map(\.offset),
            [256, 512, 768])
    }

    func testOutcomeWaitsForEveryFileAndAMismatchOffersAgain() {
        var outbox = JobOutbox(cell: cell, attempt: 1, epoch: 0)
        let best = file("best.h5", size: 10, sha: "c")
        _ = outbox.addEpoch(report(1), files: [best], connected: true)
        XCTAssertEqual(outbox.finish(.done(summary: "{}"), connected: true), [], "DONE waits for best.h5")
        let (again, abandon) = outbox.stored(Stored(sha256: best.ref.sha256, status: .hashMismatch), connected: true)
        XCTAssertNil(abandon)
        XCTAssertEqual(again, [.offer(Offer(cell: cell, attempt: 1, epoch: 1, file: best.ref))])
        let (done, _) = outbox.stored(Stored(sha256: best.ref.sha256, status: .ok), connected: true)
        XCTAssertEqual(done, [.done(Done(cell: cell, attempt: 1, summary: "{}", files: [best.ref]))])
        let (_, stale) = outbox.stored(Stored(sha256: best.ref.sha256, status: .stale), connected: true)
        XCTAssertNotNil(stale, "a stale attempt is abandoned")
    }
}
