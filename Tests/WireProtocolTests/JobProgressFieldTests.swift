// JobProgressFieldTests: a heartbeat's progress inside an epoch — phase and rows checked at decode time.
import WireProtocol
import XCTest

final class JobProgressFieldTests: XCTestCase {
    private func decode(_ job: JobProgress) -> String? {
        do {
            _ = try MessageCodec.decode(MessageCodec.encode(.heartbeat(Heartbeat(progress: [job]))))
            return nil
        } catch .malformedHeader(let text) {
            return text
        } catch {
            return "\(error)"
        }
    }

    private func job(_ phase: JobProgress.Phase?, _ done: Int?, _ total: Int?, rate: Double? = nil) -> JobProgress {
        JobProgress(
            cell: Samples.cell, attempt: 1, epoch: 2, phase: phase, rowsDone: done, rowsTotal: total,
            rowsPerSecond: rate)
    }

    func testAProgressWithItsPhaseRoundTrips() throws {
        let sent = Heartbeat(progress: [job(.train, 512, 24_000, rate: 3_100.5), job(nil, nil, nil)])
        let decoded = try MessageCodec.decode(MessageCodec.encode(.heartbeat(sent)))
        XCTAssertEqual(decoded, .heartbeat(sent))
        let text = String(decoding: MessageCodec.encode(.heartbeat(sent))[2], as: UTF8.self)
        XCTAssertTrue(text.contains(#""phase":"train""#) && text.contains(#""rows_done":512"#), text)
        XCTAssertTrue(text.contains(#""rows_per_second":3100.5"#), text)
    }

    func testBadPhasesAndRowsAreRefused() {
        XCTAssertTrue(decode(job(.train, 5, nil))?.contains("all three or none") == true)
        XCTAssertTrue(decode(job(nil, 5, 10))?.contains("all three or none") == true)
        XCTAssertTrue(decode(job(.cache, 11, 10))?.contains("'progress[0].rows_done' is 11") == true)
        XCTAssertTrue(decode(job(.cache, -1, 10))?.contains("'progress[0].rows_done' is -1") == true)
        XCTAssertTrue(decode(job(.cache, 0, (1 << 40) + 1))?.contains("rows_total") == true)
        XCTAssertTrue(decode(job(.train, 1, 10, rate: -2))?.contains("rows_per_second") == true)
        XCTAssertNil(decode(job(.validate, 0, 0)))
        // A phase the protocol does not know is not a phase.
        let header =
            #"{"progress":[{"cell":"\#(Samples.cell)","attempt":1,"epoch":1,"phase":"dance","#
            + #""rows_done":1,"rows_total":2}]}"#
        let frames = [ProtocolVersion.signature, [Command.heartbeat.rawValue], Array(header.utf8)]
        XCTAssertThrowsError(try MessageCodec.decode(frames))
    }
}
