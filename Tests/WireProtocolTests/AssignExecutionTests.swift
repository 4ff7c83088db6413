// AssignExecutionTests: ASSIGN's env, workdir, resume_file and checkpoints, HELLO's gpus and STATUS_REPLY's workers — absent by default, each bad value refused at decode time.
import WireProtocol
import XCTest

final class AssignExecutionTests: XCTestCase {
    private func assign(
        env: [String: String]? = nil, workdir: String? = nil, resumeFile: String? = nil, checkpoints: [String]? = nil
    ) -> Message {
        .assign(
            Assign(
                cell: Samples.cell, attempt: 1, variant: "v", seed: 7, config: "{}",
                dataset: ArtifactRef(name: "d", sha256: Samples.sha, size: 3), stage1: nil, resume: nil,
                command: ["sh", "run.sh"], env: env, workdir: workdir, resumeFile: resumeFile, checkpoints: checkpoints)
        )
    }

    private func hello(gpus: [Int]?) -> Message {
        .hello(
            Hello(
                worker: "w", incarnation: "i", host: "h", threads: 1, gpu: nil, slots: 4, codeVersion: "dev",
                blasCore: "", resuming: [], gpus: gpus))
    }

    private func assertRefused(
        _ message: Message, _ reason: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try MessageCodec.decode(MessageCodec.encode(message))
            XCTFail("decoded: \(message)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
        }
    }

    func testAbsentFieldsLeaveTheHeadersAsBefore() throws {
        let header = String(decoding: MessageCodec.encode(assign())[2], as: UTF8.self)
        for key in ["env", "workdir", "resume_file", "checkpoints"] {
            XCTAssertFalse(header.contains("\"\(key)\""), "\(key) in \(header)")
        }
        let helloHeader = String(decoding: MessageCodec.encode(hello(gpus: nil))[2], as: UTF8.self)
        XCTAssertFalse(helloHeader.contains("gpus"))
    }

    func testFieldsRoundTripWithEnvNamesUnchanged() throws {
        let message = assign(
            env: ["MY_VAR": "{gpu}:{out}", "lowerCase": "x", "_A1": ""], workdir: "../code", resumeFile: "ck/state.pt",
            checkpoints: ["ckpt-*.bin", "sub/*.pt", "a?.npz"])
        let frames = MessageCodec.encode(message)
        let header = String(decoding: frames[2], as: UTF8.self)
        XCTAssertTrue(header.contains(#""env":{"MY_VAR":"{gpu}:{out}","_A1":"","lowerCase":"x"}"#), header)
        XCTAssertTrue(
            header.contains(#""resume_file":"ck\/state.pt""#) || header.contains(#""resume_file":"ck/state.pt""#))
        XCTAssertEqual(try MessageCodec.decode(frames), message)
        XCTAssertEqual(
            try MessageCodec.decode(MessageCodec.encode(hello(gpus: [0, 1, 1023]))), hello(gpus: [0, 1, 1023]))
    }

    func testBadEnvironmentNamesAreRefused() {
        assertRefused(assign(env: ["1ABC": "x"]), "name", "field 'env' name '1ABC' is not a valid variable name")
        assertRefused(assign(env: ["A-B": "x"]), "name", "is not a valid variable name")
        assertRefused(assign(env: ["": "x"]), "name", "is empty")
        assertRefused(assign(env: ["ABLATE_OUT": "/tmp"]), "name", "starts with ABLATE_")
        assertRefused(assign(env: ["CUDA_VISIBLE_DEVICES": "3"]), "name", "is set by the worker itself")
        assertRefused(assign(env: [String(repeating: "A", count: 129): "x"]), "name", "longer than 128 characters")
        XCTAssertNoThrow(
            try MessageCodec.decode(MessageCodec.encode(assign(env: [String(repeating: "A", count: 128): "x"]))))
    }

    func testBadEnvironmentValuesAndCountsAreRefused() {
        assertRefused(assign(env: ["A": "a\u{0}b"]), "limit", "field 'env.A' contains a NUL character")
        assertRefused(assign(env: ["A": String(repeating: "x", count: 4097)]), "limit", "4097 bytes, longer than 4096")
        XCTAssertNoThrow(
            try MessageCodec.decode(MessageCodec.encode(assign(env: ["A": String(repeating: "x", count: 4096)]))))
        let many = Dictionary(uniqueKeysWithValues: (0..<65).map { ("V\($0)", "1") })
        assertRefused(assign(env: many), "limit", "field 'env' lists 65 entries, more than 64")
        let most = Dictionary(uniqueKeysWithValues: (0..<64).map { ("V\($0)", "1") })
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(env: most))))
    }

    func testBadWorkdirsAreRefused() {
        assertRefused(assign(workdir: ""), "name", "field 'workdir' is empty")
        assertRefused(assign(workdir: "/a\u{0}b"), "name", "field 'workdir' contains a NUL character")
        assertRefused(assign(workdir: "/" + String(repeating: "d", count: 1024)), "name", "longer than 1024")
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(workdir: "/srv/ablate/code"))))
    }

    func testBadResumeFilesAreRefused() {
        assertRefused(assign(resumeFile: "/etc/passwd"), "name", "field 'resume_file' is absolute")
        assertRefused(assign(resumeFile: "../state.pt"), "name", "a component starting with '.'")
        assertRefused(assign(resumeFile: "a/../../b"), "name", "a component starting with '.'")
        assertRefused(assign(resumeFile: "a//b"), "name", "an empty path component")
        assertRefused(assign(resumeFile: "a/"), "name", "an empty path component")
        assertRefused(assign(resumeFile: ""), "name", "field 'resume_file' is empty")
        assertRefused(assign(resumeFile: "st*te.pt"), "name", "uses characters other than [A-Za-z0-9._-] and '/'")
        assertRefused(assign(resumeFile: "a\u{0}b"), "name", "uses characters other than")
        assertRefused(assign(resumeFile: "metrics.jsonl"), "name", "a name the coordinator writes itself")
        assertRefused(assign(resumeFile: String(repeating: "a", count: 256)), "name", "256 bytes, longer than 255")
        assertRefused(assign(resumeFile: "d/" + String(repeating: "a", count: 129)), "name", "is not a file name")
    }

    func testBadCheckpointPatternsAreRefused() {
        assertRefused(assign(checkpoints: ["/abs/*.pt"]), "name", "field 'checkpoints' [0] is absolute")
        assertRefused(assign(checkpoints: ["*.pt", "../*.pt"]), "name", "[1] has a component starting with '.'")
        assertRefused(assign(checkpoints: ["[ab].pt"]), "name", "uses characters other than [A-Za-z0-9._-], '*', '?'")
        assertRefused(assign(checkpoints: ["x\u{0}"]), "name", "uses characters other than")
        assertRefused(assign(checkpoints: [String(repeating: "*", count: 256)]), "name", "longer than 255")
        assertRefused(
            assign(checkpoints: (0..<33).map { "f\($0).pt" }), "name", "lists 33 patterns, more than 32")
        XCTAssertNoThrow(
            try MessageCodec.decode(MessageCodec.encode(assign(checkpoints: (0..<32).map { "f\($0).pt" }))))
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(assign(checkpoints: []))))
    }

    func testStatusReplyWorkersRoundTripAndBadOnesAreRefused() throws {
        func reply(_ workers: [StatusReply.Worker]?) -> Message {
            .statusReply(StatusReply(sweep: "s", rows: [], workers: workers))
        }
        XCTAssertFalse(String(decoding: MessageCodec.encode(reply(nil))[2], as: UTF8.self).contains("workers"))
        let good = reply([
            StatusReply.Worker(worker: "w", host: "h", slots: 4, gpus: [0, 1], cells: 3),
            StatusReply.Worker(worker: "cpu", host: "", slots: 1, gpus: nil, cells: 0),
        ])
        XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(good)), good)
        func worker(name: String = "w", slots: Int = 1, gpus: [Int]? = nil, cells: Int = 0) -> StatusReply.Worker {
            StatusReply.Worker(worker: name, host: "h", slots: slots, gpus: gpus, cells: cells)
        }
        assertRefused(reply([worker(name: "")]), "name", "field 'workers[0].worker' is empty")
        assertRefused(reply([worker(), worker(name: "a\nb")]), "name", "field 'workers[1].worker' contains a control")
        assertRefused(reply([worker(slots: 257)]), "header", "field 'workers[0].slots' is 257")
        assertRefused(reply([worker(gpus: [2, 2])]), "header", "field 'workers[0].gpus' lists a GPU twice")
        assertRefused(reply([worker(cells: -1)]), "header", "field 'workers[0].cells' is -1")
    }

    func testBadHelloGPUsAreRefused() {
        assertRefused(hello(gpus: [0, 0]), "header", "field 'gpus' lists a GPU twice")
        assertRefused(hello(gpus: [-1]), "header", "field 'gpus' holds -1, outside 0...1023")
        assertRefused(hello(gpus: [1024]), "header", "holds 1024")
        assertRefused(hello(gpus: Array(0..<65)), "header", "lists 65 GPUs, more than 64")
        XCTAssertNoThrow(try MessageCodec.decode(MessageCodec.encode(hello(gpus: Array(0..<64)))))
    }
}
