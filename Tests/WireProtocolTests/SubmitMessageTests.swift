// SubmitMessageTests: SUBMIT, SUBMIT_REPLY, UPLOAD and UPLOAD_ACK round-trip, and the decode-time refusals of their fields.
import Foundation
import XCTest

@testable import WireProtocol

final class SubmitMessageTests: XCTestCase {
    private let sha = Samples.sha

    private func frames(_ json: String, _ command: Command) -> [[UInt8]] {
        [ProtocolVersion.signature, [command.rawValue], Array(json.utf8)]
    }

    private func refusal(_ json: String, _ command: Command = .submit) -> String {
        do {
            _ = try MessageCodec.decode(frames(json, command))
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    private func submitJSON(_ extra: String = "", files: String = "[]") -> String {
        #"{"request_id":"r","sweep_text":"name: s","source_name":"s.yaml","files":\#(files)\#(extra)}"#
    }

    func testMessagesRoundTrip() throws {
        let request = SubmitRequest(
            requestId: "r1", sweepText: "name: s\nseeds: [1]\n", sourceName: "my sweep.yaml", priority: -1000,
            files: [SubmitFile(path: "../data/ä.h5", sha256: sha, size: FieldLimits.maxUploadBytes, kind: .file)],
            code: [
                "a": SubmitCode(
                    sha256: sha, files: [SubmitCodeFile(path: "/abs/train.py", sha256: sha)],
                    commit: String(repeating: "ab", count: 20), dirty: true)
            ])
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.submit(request))), .submit(request))
        let replies = [
            SubmitReply(requestId: "r1", ok: false, error: "2 files missing", missing: [sha], chunkBytes: 262_144),
            SubmitReply(requestId: "r1", ok: false, error: "bad sweep", problems: ["s.yaml:3:1: seeds: bad"]),
            SubmitReply(requestId: "r1", ok: true, sweep: "s", cells: 0),
        ]
        for reply in replies {
            XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.submitReply(reply))), .submitReply(reply))
        }
        let upload = Upload(sha256: sha, offset: 10, totalSize: 20, payload: Array(repeating: 7, count: 10))
        let uploadFrames = MessageCodec.encode(.upload(upload))
        XCTAssertEqual(uploadFrames.count, 4)
        XCTAssertEqual(uploadFrames[1], [27])
        XCTAssertEqual(try MessageCodec.decode(uploadFrames), .upload(upload))
        for status in UploadAck.Status.allCases {
            let ack = UploadAck(sha256: sha, nextOffset: 3, status: status, reason: status == .refused ? "full" : nil)
            XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(.uploadAck(ack))), .uploadAck(ack))
        }
        let text = String(
            decoding: MessageCodec.encode(.uploadAck(UploadAck(sha256: sha, nextOffset: 3, status: .hashMismatch)))[2],
            as: UTF8.self)
        XCTAssertEqual(text, #"{"next_offset":3,"sha256":"\#(sha)","status":"hash_mismatch"}"#)
    }

    func testSubmitFieldsAreCheckedAtDecodeTime() {
        let file = #"{"path":"d.h5","sha256":"\#(sha)","size":5,"kind":"file"}"#
        let tooLarge = #"{"path":"d.h5","sha256":"\#(sha)","size":1099511627777,"kind":"file"}"#
        let cases: [(String, String)] = [
            (submitJSON(), "accepted"),
            (submitJSON(files: "[\(file)]"), "accepted"),
            (
                #"{"request_id":"r/1","sweep_text":"x","source_name":"s","files":[]}"#,
                "field 'request_id' is not a name"
            ),
            (#"{"request_id":"r","sweep_text":"","source_name":"s","files":[]}"#, "field 'sweep_text' is empty"),
            (#"{"request_id":"r","sweep_text":"a\u0000","source_name":"s","files":[]}"#, "contains NUL"),
            (
                #"{"request_id":"r","sweep_text":"x","source_name":"a\nb","files":[]}"#,
                "'source_name' contains a control"
            ),
            (submitJSON(#","priority":1001"#), "field 'priority' is 1001, must be in -1000...1000"),
            (submitJSON(#","priority":-1001"#), "field 'priority' is -1001"),
            (submitJSON(files: "[\(file),\(file)]"), "field 'files[1].path' is listed twice"),
            (submitJSON(files: "[\(tooLarge)]"), "more than the largest upload"),
            (
                submitJSON(files: #"[{"path":"d","sha256":"\#(sha.uppercased())","size":5,"kind":"file"}]"#),
                "field 'files[0].sha256' is not 64 lower-case hex digits"
            ),
            (
                submitJSON(files: #"[{"path":"d","sha256":"\#(sha)","size":-1,"kind":"file"}]"#),
                "field 'files[0].size' is -1"
            ),
            (submitJSON(files: #"[{"path":"d","sha256":"\#(sha)","size":1,"kind":"dir"}]"#), "has an invalid value"),
            (
                submitJSON(files: #"[{"path":"d","sha256":"\#(sha)","size":1,"kind":"archive"}]"#),
                "'files[0].manifest_sha256' is required for kind 'archive'"
            ),
            (
                submitJSON(
                    files: #"[{"path":"d","sha256":"\#(sha)","size":1,"kind":"file","manifest_sha256":"\#(sha)"}]"#),
                "is taken by kind 'archive' only"
            ),
            (submitJSON(files: #"[{"path":"a\u0000b","sha256":"\#(sha)","size":1,"kind":"file"}]"#), "control"),
            (submitJSON(files: #"[{"path":"","sha256":"\#(sha)","size":1,"kind":"file"}]"#), "path' is empty"),
            (
                submitJSON(#","code":{"../x":{"sha256":"\#(sha)","files":[{"path":"t.py","sha256":"\#(sha)"}]}}"#),
                "a variant name in field 'code' is not a name"
            ),
            (submitJSON(#","code":{"a":{"sha256":"\#(sha)","files":[]}}"#), "field 'code.a.files' is empty"),
            (
                submitJSON(
                    #","code":{"a":{"sha256":"\#(sha)","commit":"xyz","files":[{"path":"t","sha256":"\#(sha)"}]}}"#),
                "field 'code.a.commit' is not 40 or 64"
            ),
        ]
        for (json, expected) in cases {
            XCTAssertTrue(refusal(json).contains(expected), "\(json): \(refusal(json))")
        }
        let long = String(repeating: "p", count: FieldLimits.maxSubmitPathBytes + 1)
        XCTAssertTrue(
            refusal(submitJSON(files: #"[{"path":"\#(long)","sha256":"\#(sha)","size":1,"kind":"file"}]"#)).contains(
                "longer than 4096"))
        let many = Array(repeating: file, count: FieldLimits.maxSubmitFiles + 1).joined(separator: ",")
        XCTAssertTrue(refusal(submitJSON(files: "[\(many)]")).contains("lists 257 entries, more than 256"))
        let text = String(repeating: "a", count: FieldLimits.maxSweepTextBytes + 1)
        let big = #"{"request_id":"r","sweep_text":"\#(text)","source_name":"s","files":[]}"#
        XCTAssertTrue(refusal(big).contains("more than 524288"), refusal(big))
        XCTAssertTrue(
            refusal(#"{"request_id":"r","source_name":"s","files":[]}"#).contains("missing field 'sweep_text'"))
    }

    func testReplyAndAckFieldsAreCheckedAtDecodeTime() {
        let cases: [(String, Command, String)] = [
            (#"{"request_id":"r","ok":true,"sweep":"s","cells":3}"#, .submitReply, "accepted"),
            (#"{"request_id":"r","ok":true,"sweep":"s"}"#, .submitReply, "'ok' true takes 'sweep' and 'cells'"),
            (#"{"request_id":"r","ok":true,"sweep":"../s","cells":1}"#, .submitReply, "field 'sweep' is not a name"),
            (#"{"request_id":"r","ok":true,"sweep":"s","cells":-1}"#, .submitReply, "field 'cells' is -1"),
            (#"{"request_id":"r","ok":false}"#, .submitReply, "'ok' false takes an 'error'"),
            (#"{"request_id":"r","ok":false,"error":"a\nb"}"#, .submitReply, "field 'error' contains a control"),
            (#"{"request_id":"r","ok":false,"error":"e","missing":["abc"]}"#, .submitReply, "'missing[0]' is not 64"),
            (
                #"{"request_id":"r","ok":false,"error":"e","missing":["\#(sha)","\#(sha)"]}"#, .submitReply,
                "lists a file twice"
            ),
            (#"{"request_id":"r","ok":false,"error":"e","problems":["x\ty"]}"#, .submitReply, "'problems[0]'"),
            (#"{"request_id":"r","ok":false,"error":"e","chunk_bytes":0}"#, .submitReply, "'chunk_bytes' is 0"),
            (#"{"sha256":"\#(sha)","next_offset":4,"status":"more"}"#, .uploadAck, "accepted"),
            (#"{"sha256":"\#(sha)","next_offset":-4,"status":"more"}"#, .uploadAck, "'next_offset' is -4"),
            (#"{"sha256":"\#(sha)","next_offset":0,"status":"refused"}"#, .uploadAck, "'refused' takes a 'reason'"),
            (#"{"sha256":"\#(sha)","next_offset":0,"status":"gone"}"#, .uploadAck, "has an invalid value"),
            (#"{"sha256":"x","next_offset":0,"status":"more"}"#, .uploadAck, "'sha256' is not 64"),
        ]
        for (json, command, expected) in cases {
            XCTAssertTrue(refusal(json, command).contains(expected), "\(json): \(refusal(json, command))")
        }
    }

    func testUploadHeaderIsCheckedAtDecodeTime() {
        func upload(offset: Int64, total: Int64, payload: Int) -> String {
            let head = ChunkLayout.encodeHeader(sha256: sha, offset: offset, totalSize: total, length: payload)
            let message = [
                ProtocolVersion.signature, [Command.upload.rawValue], head, Array(repeating: 1, count: payload),
            ]
            do {
                _ = try MessageCodec.decode(message)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(upload(offset: 0, total: 0, payload: 0), "accepted")
        XCTAssertTrue(upload(offset: 4, total: 5, payload: 2).contains("UPLOAD header: offset 4 + length 2 exceeds"))
        XCTAssertTrue(upload(offset: 0, total: (1 << 40) + 1, payload: 1).contains("more than the largest upload"))
        XCTAssertTrue(upload(offset: 0, total: 1 << 30, payload: FrameLimits.defaultChunkBytes + 1).contains("frame 3"))
        let noPayload = [ProtocolVersion.signature, [Command.upload.rawValue], Array(repeating: 0, count: 52)]
        XCTAssertThrowsError(try MessageCodec.decode(noPayload))
    }
}
