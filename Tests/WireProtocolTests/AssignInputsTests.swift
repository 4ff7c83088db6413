// AssignInputsTests: ASSIGN's `inputs` and its optional `dataset` — absent by default, checked at decode time.
import WireProtocol
import XCTest

final class AssignInputsTests: XCTestCase {
    private static let manifest = String(repeating: "b", count: 64)

    private func assign(inputs: [InputRef]?, dataset: ArtifactRef? = nil) -> Message {
        .assign(
            Assign(
                cell: Samples.cell, attempt: 1, variant: "v", seed: 7, config: "{}", dataset: dataset, stage1: nil,
                resume: nil, command: ["sh", "run.sh"], inputs: inputs))
    }

    private func file(_ name: String) -> InputRef {
        InputRef(
            name: name, kind: .file, sha256: Samples.sha,
            artifact: ArtifactRef(name: "input-f", sha256: Samples.sha, size: 3))
    }

    private func directory(_ name: String) -> InputRef {
        InputRef(
            name: name, kind: .directory, sha256: Self.manifest,
            artifact: ArtifactRef(name: "input-d", sha256: Samples.sha, size: 300))
    }

    private func refusal(_ message: Message, file: StaticString = #filePath, line: UInt = #line) -> DecodeError? {
        do {
            _ = try MessageCodec.decode(MessageCodec.encode(message))
            XCTFail("decoded", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testInputsRoundTripAndAbsentOnesAreLeftOut() throws {
        let frames = MessageCodec.encode(assign(inputs: nil))
        let header = String(decoding: frames[2], as: UTF8.self)
        XCTAssertFalse(header.contains("inputs"), header)
        XCTAssertFalse(header.contains("dataset"), "a sweep without a dataset sends none: \(header)")
        XCTAssertEqual(try MessageCodec.decode(frames), assign(inputs: nil))
        let both = assign(inputs: [file("cfg"), directory("data_2")])
        let encoded = MessageCodec.encode(both)
        XCTAssertTrue(String(decoding: encoded[2], as: UTF8.self).contains(#""kind":"directory""#))
        XCTAssertEqual(try MessageCodec.decode(encoded), both)
    }

    func testBadInputsAreRefusedAtDecode() throws {
        for name in ["", "Upper", "9lead", "has-dash", "../x", String(repeating: "a", count: 33)] {
            let error = try XCTUnwrap(refusal(assign(inputs: [file(name)])), name)
            XCTAssertEqual(error.reason, "name", "\(error)")
        }
        XCTAssertEqual(refusal(assign(inputs: [file("a"), directory("a")]))?.reason, "name")
        var badHash = directory("d")
        badHash.sha256 = "XYZ"
        XCTAssertEqual(refusal(assign(inputs: [badHash]))?.reason, "header")
        var mismatched = file("f")
        mismatched.artifact.sha256 = Self.manifest
        XCTAssertEqual(refusal(assign(inputs: [mismatched]))?.reason, "header")
        var escaping = directory("d")
        escaping.artifact.name = "../archive"
        XCTAssertEqual(refusal(assign(inputs: [escaping]))?.reason, "name")
        let many = (0...64).map { file("f\($0)") }
        let error = try XCTUnwrap(refusal(assign(inputs: many)))
        XCTAssertEqual(error.reason, "limit", "\(error)")
        XCTAssertTrue(error.description.contains("more than 64"), "\(error)")
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(inputs: Array(many.prefix(64))))))
    }
}
