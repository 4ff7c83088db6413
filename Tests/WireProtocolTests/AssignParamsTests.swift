// AssignParamsTests: ASSIGN's `params` field — absent by default, checked at decode time against its limits.
import WireProtocol
import XCTest

final class AssignParamsTests: XCTestCase {
    private func assign(params: String?) -> Message {
        .assign(
            Assign(
                cell: Samples.cell, attempt: 1, variant: "v", seed: 7, config: "{}",
                dataset: ArtifactRef(name: "d", sha256: Samples.sha, size: 3),
                stage1: nil, resume: nil, command: ["sh", "run.sh"], timeoutSeconds: nil, params: params))
    }

    private func refusal(_ params: String, file: StaticString = #filePath, line: UInt = #line) -> DecodeError? {
        do {
            _ = try MessageCodec.decode(MessageCodec.encode(assign(params: params)))
            XCTFail("params \(params.prefix(80)) decoded", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func assertRefused(
        _ params: String, _ reason: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let error = refusal(params, file: file, line: line) else { return }
        XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
    }

    func testAbsentParamsAreLeftOutOfTheHeader() throws {
        let frames = MessageCodec.encode(assign(params: nil))
        XCTAssertFalse(String(decoding: frames[2], as: UTF8.self).contains("params"))
        XCTAssertEqual(try MessageCodec.decode(frames), assign(params: nil))
    }

    func testParamsRoundTripAsText() throws {
        let text = #"{"dropout":0.1,"layers":[64,32],"name":"a \"b\"","use_bn":true,"width":4}"#
        let frames = MessageCodec.encode(assign(params: text))
        XCTAssertTrue(String(decoding: frames[2], as: UTF8.self).contains(#""params":"{\"dropout\":0.1"#))
        XCTAssertEqual(try MessageCodec.decode(frames), assign(params: text))
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(params: "{}"))))
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(params: #" { "a" : [ ] } "#))))
    }

    func testAnOldPeerIgnoresTheField() throws {
        // A header with a key this build does not know still decodes (docs/protocol.md, "Unknown keys are ignored").
        let text =
            #"{"attempt":1,"cell":"\#(Samples.cell)","config":"{}","dataset":{"name":"d","sha256":"\#(Samples.sha)","size":3},"#
            + #""params":"{\"x\":1}","seed":7,"surprise":{"a":1},"variant":"v"}"#
        let decoded = try MessageCodec.decode([ProtocolVersion.signature, [Command.assign.rawValue], Array(text.utf8)])
        guard case .assign(let body) = decoded else { return XCTFail("\(decoded)") }
        XCTAssertEqual(body.params, #"{"x":1}"#)
    }

    func testOversizedParamsAreRefused() {
        let many = "{" + (0..<257).map { "\"p\($0)\":1" }.joined(separator: ",") + "}"
        assertRefused(many, "limit", "field 'params' lists 257 entries, more than 256")
        let most = "{" + (0..<256).map { "\"p\($0)\":1" }.joined(separator: ",") + "}"
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(params: most))))
        let long = #"{"text":""# + String(repeating: "x", count: 70_000) + #""}"#
        assertRefused(long, "limit", "field 'params' holds 70011 bytes, more than 65536")
    }

    func testBadNamesAreRefused() {
        assertRefused(#"{"1st":1}"#, "name", "starts with a digit")
        assertRefused(#"{"a-b":1}"#, "name", "other than ASCII letters, digits and '_'")
        assertRefused(#"{"é":1}"#, "name", "other than ASCII letters")
        assertRefused(#"{"":1}"#, "name", "is empty")
        assertRefused("{\"\(String(repeating: "n", count: 65))\":1}", "name", "longer than 64 characters")
        assertRefused(#"{"lr":1,"LR":2}"#, "name", "differs from another only in case")
        XCTAssertNoThrow(
            try MessageCodec.decode(MessageCodec.encode(assign(params: "{\"\(String(repeating: "n", count: 64))\":1}")))
        )
    }

    func testOtherShapesAreRefused() {
        assertRefused("[1]", "header", "field 'params' is not a JSON object")
        assertRefused("not json", "header", "field 'params' is not a JSON object")
        assertRefused(#"{"a":null}"#, "header", "field 'params' is not an object of texts")
        assertRefused(#"{"a":{"b":1}}"#, "header", "field 'params'")
        assertRefused(#"{"a":[[1]]}"#, "header", "field 'params'")
        assertRefused(#"{"a":1"#, "header", "field 'params'")
    }
}
