// ControlMessageTests: CONTROL and CONTROL_REPLY round-trip, and the decode-time refusals of their fields.
import Foundation
import XCTest

@testable import WireProtocol

final class ControlMessageTests: XCTestCase {
    private func frames(_ json: String, _ command: Command = .control) -> [[UInt8]] {
        [ProtocolVersion.signature, [command.rawValue], Array(json.utf8)]
    }

    private func refusal(_ json: String, _ command: Command = .control) -> String {
        do {
            _ = try MessageCodec.decode(frames(json, command))
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testEveryActionRoundTrips() throws {
        let requests = [
            ControlRequest(requestId: "r1", sweep: "", action: .sweeps),
            ControlRequest(requestId: "r2", sweep: "s", action: .cancel, variant: "b"),
            ControlRequest(requestId: "r3", sweep: "s", action: .resume),
            ControlRequest(requestId: "r4", sweep: "s", action: .retry, variant: "b", failed: true),
            ControlRequest(requestId: "r5", sweep: "s", action: .retry, cells: ["abcdef12", Samples.cell]),
            ControlRequest(requestId: "r6", sweep: "s.v-1_2", action: .extend, seeds: [0, 45, UInt64.max]),
            ControlRequest(requestId: "r7", sweep: "s", action: .report, format: .html),
        ]
        for request in requests {
            XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.control(request))), .control(request))
        }
        let refused = ControlReply.refused("r2", "key workers/x may not cancel: only keys in clients/ may")
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.controlReply(refused))), .controlReply(refused))
        let sweeps = ControlReply(
            requestId: "r1", ok: true,
            result: ControlResult(
                message: "1 sweep: s",
                sweeps: [
                    SweepSummary(
                        name: "s", cells: 8, done: 2, running: 1, pending: 1, failed: 0, cancelled: 4, etaSeconds: nil,
                        cancelledVariants: ["b"])
                ]))
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.controlReply(sweeps))), .controlReply(sweeps))
        let report = ControlReply(
            requestId: "r7", ok: true,
            result: ControlResult(
                message: "report.html of sweep s: 10 bytes",
                report: ControlReportFile(name: "report.html", sha256: Samples.cell, size: 10)))
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.controlReply(report))), .controlReply(report))
        var outside = report
        outside.result?.report?.name = "../etc/passwd"
        XCTAssertThrowsError(try MessageCodec.decode(MessageCodec.encode(.controlReply(outside))))
        let text = String(decoding: MessageCodec.encode(.control(requests[5]))[2], as: UTF8.self)
        XCTAssertEqual(
            text, #"{"action":"extend","request_id":"r6","seeds":[0,45,18446744073709551615],"sweep":"s.v-1_2"}"#)
    }

    func testFieldsAreCheckedAtDecodeTime() {
        let cases: [(String, String)] = [
            (#"{"request_id":"r","sweep":"s","action":"delete"}"#, "field 'action' has an invalid value"),
            (#"{"request_id":"r","sweep":"../etc","action":"cancel"}"#, "field 'sweep' is not a name"),
            (#"{"request_id":"r","sweep":"","action":"cancel"}"#, "field 'sweep' is not a name"),
            (#"{"request_id":"r r","sweep":"s","action":"cancel"}"#, "field 'request_id' is not a name"),
            (#"{"request_id":"r","sweep":"s","action":"cancel","variant":"a/b"}"#, "field 'variant' is not a name"),
            (#"{"request_id":"r","sweep":"s","action":"extend","seeds":[-1]}"#, "CONTROL header: "),
            (#"{"request_id":"r","sweep":"s","action":"extend","seeds":[1.5]}"#, "CONTROL header: "),
            (#"{"request_id":"r","sweep":"s","action":"extend","seeds":[4,4]}"#, "lists a seed twice"),
            (#"{"request_id":"r","sweep":"s","action":"extend","seeds":[]}"#, "field 'seeds' is empty"),
            (#"{"request_id":"r","sweep":"s","action":"report"}"#, "action 'report' needs field 'format'"),
            (#"{"request_id":"r","sweep":"s","action":"report","format":"pdf"}"#, "CONTROL header: "),
            (#"{"request_id":"r","sweep":"s","action":"cancel","format":"md"}"#, "field 'format' is not taken"),
            (#"{"request_id":"r","sweep":"s","action":"extend"}"#, "action 'extend' needs field 'seeds'"),
            (#"{"request_id":"r","sweep":"s","action":"cancel","seeds":[1]}"#, "not taken by action 'cancel'"),
            (#"{"request_id":"r","sweep":"s","action":"sweeps","variant":"a"}"#, "not taken by action 'sweeps'"),
            (#"{"request_id":"r","sweep":"s","action":"retry"}"#, "exactly one of 'failed: true' and 'cells'"),
            (
                #"{"request_id":"r","sweep":"s","action":"retry","failed":true,"cells":["abcdef"]}"#,
                "not taken by action 'retry'"
            ),
            (#"{"request_id":"r","sweep":"s","action":"retry","cells":["abc"]}"#, "not a cell id or prefix"),
            (#"{"request_id":"r","sweep":"s","action":"retry","cells":["ABCDEF"]}"#, "not a cell id or prefix"),
            (
                #"{"request_id":"r","sweep":"s","action":"retry","variant":"a","cells":["abcdef"]}"#,
                "field 'variant' is not taken"
            ),
            (#"{"request_id":"r","ok":true}"#, "'ok' true takes a 'result'"),
            (#"{"request_id":"r","ok":false}"#, "'ok' false an 'error'"),
        ]
        for (index, (json, expected)) in cases.enumerated() {
            let command: Command = json.contains("\"ok\"") ? .controlReply : .control
            let problem = refusal(json, command)
            XCTAssertTrue(problem.contains(expected), "case \(index): \(problem)")
        }
    }

    func testListsAreBounded() {
        let cells = (0..<(FieldLimits.maxControlCells + 1)).map { String(format: "%08x", $0) }
        let many = ControlRequest(requestId: "r", sweep: "s", action: .retry, cells: cells)
        XCTAssertTrue(
            refusal(String(decoding: MessageCodec.encode(.control(many))[2], as: UTF8.self)).contains(
                "lists 1001 entries, more than 1000"))
        let seeds = ControlRequest(
            requestId: "r", sweep: "s", action: .extend, seeds: (0...UInt64(FieldLimits.maxControlSeeds)).map { $0 })
        XCTAssertTrue(
            refusal(String(decoding: MessageCodec.encode(.control(seeds))[2], as: UTF8.self)).contains(
                "more than 100"))
        let long = String(repeating: "a", count: FieldLimits.maxRequestIDBytes + 1)
        XCTAssertTrue(refusal(#"{"request_id":"\#(long)","sweep":"s","action":"resume"}"#).contains("request_id"))
    }
}
