// MessageRoundTripTests: every message survives encode → decode unchanged, with the frames its command needs.
import WireProtocol
import XCTest

/// Encodes one message of each of the 21 commands and decodes it back.
final class MessageRoundTripTests: XCTestCase {
    func testSamplesCoverEveryCommand() {
        XCTAssertEqual(Samples.all.map(\.command), Command.allCases)
    }

    func testEveryMessageRoundTrips() throws {
        for message in Samples.all {
            let frames = MessageCodec.encode(message)
            XCTAssertEqual(frames.count, message.command.frameCount, "\(message.command.wireName)")
            XCTAssertEqual(frames[0], ProtocolVersion.signature)
            XCTAssertEqual(frames[1], [message.command.rawValue])
            XCTAssertEqual(try MessageCodec.decode(frames), message, "\(message.command.wireName)")
        }
    }

    func testJSONHeadersUseSnakeCaseAndSortedKeys() throws {
        let frames = MessageCodec.encode(Samples.all[0])
        let text = String(decoding: frames[2], as: UTF8.self)
        XCTAssertTrue(text.contains(#""blas_core":"Haswell""#), text)
        XCTAssertTrue(text.contains(#""code_version":"0.1.0""#), text)
        XCTAssertLessThan(
            try XCTUnwrap(text.range(of: "blas_core")).lowerBound,
            try XCTUnwrap(text.range(of: "worker")).lowerBound)
    }

    func testUnknownJSONKeysAreIgnoredAndOptionalsMayBeNull() throws {
        let header = #"{"sha256":"\#(Samples.sha)","status":"ok","future_field":[1,2],"note":null}"#
        let frames = [ProtocolVersion.signature, [Command.stored.rawValue], Array(header.utf8)]
        XCTAssertEqual(try MessageCodec.decode(frames), .stored(Stored(sha256: Samples.sha, status: .ok)))

        let assign = MessageCodec.encode(Samples.all[3])
        let withNull = String(decoding: assign[2], as: UTF8.self).replacingOccurrences(
            of: "{\"cell\"", with: "{\"resume\":null,\"cell\"")
        let decoded = try MessageCodec.decode([assign[0], assign[1], Array(withNull.utf8)])
        XCTAssertEqual(decoded, Samples.all[3])
    }

    func testUpperCaseHexInBinaryHeadersDecodesToLowerCase() throws {
        var report = Samples.metrics
        report.cell = report.cell.uppercased()
        let decoded = try MessageCodec.decode(MessageCodec.encode(.metrics(report)))
        XCTAssertEqual(decoded, .metrics(Samples.metrics))
    }

    func testNonFiniteStatusValuesRoundTrip() throws {
        let row = StatusReply.Row(
            cell: Samples.cell, variant: "v", seed: 1, stage: "s", state: "running", worker: nil, attempt: 1, epoch: 1,
            epochs: 2, bestValMacroF1: .infinity, etaSeconds: -.infinity)
        let message = Message.statusReply(StatusReply(sweep: "x", rows: [row]))
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(message)), message)
    }

    /// STATUS_REPLY's optional `paused`: sent as `paused` when set, left out when not, and a reply without it (an
    /// older coordinator's) still decodes.
    func testStatusReplyPausedIsOptional() throws {
        let paused = Message.statusReply(
            StatusReply(sweep: "x", rows: [], paused: "paused: state directory full (0.2 MB free, need 2.0 MB)"))
        let frames = MessageCodec.encode(paused)
        XCTAssertTrue(String(decoding: frames[2], as: UTF8.self).contains("\"paused\":\"paused: state directory full"))
        XCTAssertEqual(try MessageCodec.decode(frames), paused)
        let running = MessageCodec.encode(.statusReply(StatusReply(sweep: "x", rows: [])))
        XCTAssertFalse(String(decoding: running[2], as: UTF8.self).contains("paused"))
        let older = [running[0], running[1], Array(#"{"rows":[],"sweep":"x"}"#.utf8)]
        XCTAssertEqual(try MessageCodec.decode(older), .statusReply(StatusReply(sweep: "x", rows: [])))
    }

    func testEmptyFileChunkRoundTrips() throws {
        let message = Message.chunk(FileChunk(sha256: Samples.sha, offset: 0, totalSize: 0, payload: []))
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(message)), message)
    }
}
