// DecodeErrorTests: every way a frame set is refused, in the documented order, with a reason key for counting.
import WireProtocol
import XCTest

/// Feeds malformed frame sets to the decoder and checks the exact error (or the field its text names).
final class DecodeErrorTests: XCTestCase {
    private let sig = ProtocolVersion.signature

    private func decodeError(_ frames: [[UInt8]], limits: FrameLimits = .init()) -> DecodeError? {
        do {
            _ = try MessageCodec.decode(frames, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    private func assertError(
        _ frames: [[UInt8]], _ expected: DecodeError, limits: FrameLimits = .init(), file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(decodeError(frames, limits: limits), expected, file: file, line: line)
    }

    /// Asserts a `.malformedHeader` whose text contains `fragment`.
    private func assertMalformed(
        _ frames: [[UInt8]], _ fragment: String, limits: FrameLimits = .init(), file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard case .malformedHeader(let text) = decodeError(frames, limits: limits) else {
            return XCTFail(
                "expected malformedHeader, got \(String(describing: decodeError(frames)))", file: file, line: line)
        }
        XCTAssertTrue(text.contains(fragment), "\(text) lacks \(fragment)", file: file, line: line)
    }

    private func json(_ command: Command, _ header: String) -> [[UInt8]] {
        [sig, [command.rawValue], Array(header.utf8)]
    }

    private func frames(_ message: Message) -> [[UInt8]] { MessageCodec.encode(message) }

    // MARK: - Framing

    func testNoFrames() {
        assertError([], .empty)
        XCTAssertEqual(DecodeError.empty.reason, "frames")
    }

    func testWrongSignature() {
        assertError([Array("XBL".utf8) + [1], [3], Array("{}".utf8)], .wrongSignature)
        assertError([[0x41, 0x42, 0x4C]], .wrongSignature)
        assertError([sig + [0], [3], Array("{}".utf8)], .wrongSignature)
        assertError([[], [3], []], .wrongSignature)
        XCTAssertEqual(DecodeError.wrongSignature.reason, "signature")
        XCTAssertEqual(DecodeError.wrongSignature.refusal?.reason, "unsupported protocol signature")
    }

    func testOtherVersionIsRefusedBeforeAnythingElse() {
        let v2: [UInt8] = [0x41, 0x42, 0x4C, 2]
        assertError([v2], .unsupportedVersion(2))
        assertError([v2, [99, 99], [], [], [], []], .unsupportedVersion(2))
        assertError([v2] + frames(Samples.all[2]).dropFirst(), .unsupportedVersion(2))
        XCTAssertEqual(DecodeError.unsupportedVersion(2).reason, "version")
        XCTAssertEqual(DecodeError.unsupportedVersion(2).refusal, Disconnect(reason: "unsupported protocol version 2"))
        XCTAssertNil(DecodeError.missingCommand.refusal)
    }

    func testCommandFrame() {
        assertError([sig], .missingCommand)
        assertError([sig, [], []], .commandFrameSize(0))
        assertError([sig, [3, 3], []], .commandFrameSize(2))
        assertError([sig, [0], []], .unknownCommand(0))
        assertError([sig, [29], [], []], .unknownCommand(29))
        assertError([sig, [255]], .unknownCommand(255))
        XCTAssertEqual(DecodeError.unknownCommand(0).reason, "command")
    }

    func testWrongFrameCounts() {
        assertError([sig, [Command.heartbeat.rawValue]], .wrongFrameCount(command: .heartbeat, count: 2))
        assertError(frames(Samples.all[0]) + [[]], .wrongFrameCount(command: .hello, count: 4))
        assertError(Array(frames(.chunk(Samples.chunk)).prefix(3)), .wrongFrameCount(command: .chunk, count: 3))
        assertError(frames(.metrics(Samples.metrics)) + [[1]], .wrongFrameCount(command: .metrics, count: 4))
        assertError(frames(.chunk(Samples.chunk)) + [[1]], .wrongFrameCount(command: .chunk, count: 5))
        XCTAssertEqual(DecodeError.wrongFrameCount(command: .hello, count: 4).reason, "frames")
    }

    // MARK: - Sizes

    func testOversizeFramesAreRefusedBeforeParsing() {
        let limits = FrameLimits(maxChunkBytes: 1024, maxJSONBytes: 100)
        XCTAssertEqual(limits.maxFrameBytes, 1024 + 65536)
        let bigJSON = json(.disconnect, #"{"reason":""# + String(repeating: "x", count: 100) + #""}"#)
        assertError(bigJSON, .frameTooLarge(index: 2, size: bigJSON[2].count), limits: limits)
        let garbage = [sig, [Command.heartbeat.rawValue], [UInt8](repeating: 0x7B, count: 101)]
        assertError(garbage, .frameTooLarge(index: 2, size: 101), limits: limits)

        let payload = [UInt8](repeating: 1, count: 1025)
        let chunk = FileChunk(sha256: Samples.sha, offset: 0, totalSize: 1025, payload: payload)
        assertError(frames(.chunk(chunk)), .frameTooLarge(index: 3, size: 1025), limits: limits)
        var exact = chunk
        exact.payload = FrameBytes(Array(payload.dropLast()))
        XCTAssertEqual(try MessageCodec.decode(frames(.data(exact)), limits: limits), .data(exact))

        var report = Samples.metrics
        report.record = #"{"x":""# + String(repeating: "y", count: 70_000) + #""}"#
        let metrics = frames(.metrics(report))
        assertError(metrics, .frameTooLarge(index: 2, size: metrics[2].count), limits: limits)
        XCTAssertEqual(DecodeError.frameTooLarge(index: 2, size: 1).reason, "size")
    }

    // MARK: - Binary headers

    func testTruncatedMetricsHeader() {
        let valid = frames(.metrics(Samples.metrics))
        assertMalformed([sig, valid[1], Array(valid[2].prefix(79))], "METRICS header truncated")
        assertMalformed([sig, valid[1], Array(valid[2].prefix(10))], "cell")
        assertMalformed([sig, valid[1], []], "METRICS header truncated")
    }

    func testMetricsRecordLengthMismatch() {
        let valid = frames(.metrics(Samples.metrics))
        assertMalformed([sig, valid[1], Array(valid[2].dropLast())], "record length 30 but 29 bytes follow")
        assertMalformed([sig, valid[1], valid[2] + [0x20]], "record length 30 but 31 bytes follow")
    }

    func testMetricsRecordMustBeOneJSONObjectLine() {
        var report = Samples.metrics
        report.record = "{\"a\":1}\n"
        assertMalformed(frames(.metrics(report)), "newline")
        report.record = "[1,2]"
        assertMalformed(frames(.metrics(report)), "not a JSON object")
        report.record = "{\"a\":"
        assertMalformed(frames(.metrics(report)), "not a JSON object")
        var bytes = frames(.metrics(Samples.metrics))
        bytes[2][82] = 0xFF
        assertMalformed(bytes, "not valid UTF-8")
    }

    func testChunkHeaderSizeAndLengths() {
        let valid = frames(.chunk(Samples.chunk))
        assertMalformed([sig, valid[1], Array(valid[2].prefix(51)), valid[3]], "CHUNK header: 51 bytes, expected 52")
        assertMalformed([sig, valid[1], valid[2] + [0], valid[3]], "53 bytes")
        assertMalformed([sig, valid[1], valid[2], valid[3] + [6]], "payload length 5 but frame 3 has 6 bytes")
        let beyond = FileChunk(sha256: Samples.sha, offset: 10, totalSize: 12, payload: [1, 2, 3])
        assertMalformed(frames(.data(beyond)), "DATA header: offset 10 + length 3 exceeds total size 12")
        var huge = valid
        huge[2].replaceSubrange(32..<40, with: [0x80, 0, 0, 0, 0, 0, 0, 0])
        assertMalformed(huge, "beyond 2^63-1")
    }

    // MARK: - JSON headers

    func testNonJSONHeaders() {
        assertMalformed(json(.heartbeat, ""), "HEARTBEAT header: not a JSON object")
        assertMalformed(json(.heartbeat, "hello"), "not a JSON object")
        assertMalformed(json(.statusRequest, "[]"), "STATUS_REQUEST header: not a JSON object")
        assertMalformed(json(.statusRequest, "null"), "not a JSON object")
        assertMalformed(json(.heartbeat, "{\"progress\":[}"), "not valid JSON")
        assertMalformed([sig, [Command.disconnect.rawValue], [0x7B, 0xFF, 0xFE, 0x7D]], "DISCONNECT header")
        XCTAssertEqual(try MessageCodec.decode(json(.statusRequest, " {} ")), .statusRequest(StatusRequest()))
    }

    func testMissingAndMistypedFields() {
        assertMalformed(json(.heartbeat, "{}"), "missing field 'progress'")
        assertMalformed(
            json(.welcome, #"{"session":"s","coordinator_incarnation":"c","liveness":5,"chunk_bytes":1,"window":1}"#),
            "WELCOME header: missing field 'heartbeat_ms'")
        assertMalformed(
            json(.metricsAck, #"{"cell":"\#(Samples.cell)","attempt":"one","seq":1}"#),
            "field 'attempt' is not an integer")
        assertMalformed(json(.disconnect, #"{"reason":null}"#), "field 'reason' is null")
        assertMalformed(json(.stored, #"{"sha256":"\#(Samples.sha)","status":"bogus"}"#), "field 'status'")
        assertMalformed(
            json(.heartbeat, #"{"progress":[{"cell":"\#(Samples.cell)","attempt":1}]}"#),
            "missing field 'progress[0].epoch'")
        assertMalformed(
            json(.failed, #"{"cell":"\#(Samples.cell)","attempt":1,"reason":"x"}"#),
            "missing field 'deterministic'")
    }

    func testCellIdsAndHashesMustBe64LowerCaseHexDigits() {
        for bad in ["abc", Samples.cell.uppercased(), String(repeating: "g", count: 64), Samples.cell + "00"] {
            assertMalformed(
                frames(.cancel(Cancel(cell: bad, attempt: 1, reason: "r"))),
                "CANCEL header: field 'cell' is not 64 lower-case hex digits")
        }
        assertMalformed(frames(.credit(Credit(sha256: "00", offset: 0, chunks: 1))), "field 'sha256'")
        var assign = Samples.all[3]
        if case .assign(var body) = assign {
            body.dataset?.sha256 = "xyz"
            assign = .assign(body)
        }
        assertMalformed(frames(assign), "field 'dataset.sha256'")
        let heartbeat = Heartbeat(progress: [JobProgress(cell: "bad", attempt: 1, epoch: 1)])
        assertMalformed(frames(.heartbeat(heartbeat)), "field 'progress[0].cell'")
    }

    func testCountersAndSettingsRanges() {
        assertMalformed(frames(.doneAck(DoneAck(cell: Samples.cell, attempt: -1, status: .ok))), "'attempt' is -1")
        assertMalformed(frames(.fetch(Fetch(sha256: Samples.sha, offset: 0, length: 0))), "'length' is 0")
        assertMalformed(frames(.fetch(Fetch(sha256: Samples.sha, offset: 0, length: 262_145))), "'length' is 262145")
        assertMalformed(frames(.credit(Credit(sha256: Samples.sha, offset: -5, chunks: 1))), "'offset' is -5")
        let welcome = Welcome(
            session: "s", coordinatorIncarnation: "c", heartbeatMs: 0, liveness: 5, chunkBytes: 1, window: 1)
        assertMalformed(frames(.welcome(welcome)), "'heartbeat_ms' is 0")
        let offer = Offer(
            cell: Samples.cell, attempt: 1, epoch: 1, file: ArtifactRef(name: "a", sha256: Samples.sha, size: -1))
        assertMalformed(frames(.offer(offer)), "'file.size' is -1")
        var assign = Samples.all[3]
        if case .assign(var body) = assign {
            body.timeoutSeconds = 0
            assign = .assign(body)
        }
        assertMalformed(frames(assign), "ASSIGN header: field 'timeout_seconds' must be a positive number of seconds")
        assertMalformed(frames(.log(LogLines(cell: "bad", attempt: 1, lines: []))), "LOG header: field 'cell'")
        XCTAssertEqual(DecodeError.malformedHeader("x").reason, "header")
    }

    // MARK: - Names and limits

    /// Asserts an error with the reason key `reason` whose text contains `fragment`.
    private func assertRefused(
        _ message: Message, _ reason: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let error = decodeError(frames(message)) else {
            return XCTFail("\(message.command) decoded; expected a '\(reason)' error", file: file, line: line)
        }
        XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
    }

    private func done(_ names: [String]) -> Message {
        .done(
            Done(
                cell: Samples.cell, attempt: 1, summary: "{}",
                files: names.map { ArtifactRef(name: $0, sha256: Samples.sha, size: 1) }))
    }

    private func offer(_ name: String, size: Int64 = 1) -> Message {
        .offer(
            Offer(
                cell: Samples.cell, attempt: 1, epoch: 1, file: ArtifactRef(name: name, sha256: Samples.sha, size: size)
            ))
    }

    static let refusedFileNames = [
        "../../../../escape-rel.h5", "../x", "", ".", "..", "sub/dir/x.h5", "/etc/passwd",
        String(repeating: "a", count: 300),
        String(repeating: "b", count: 129), ".hidden.h5", "a\u{0}b", "new\nline.h5", "sp ace.h5", "ümlaut.h5",
        "back\\slash",
        "metrics.jsonl", "summary.json", "attempt-1.log", "attempt-12.log",
    ]

    func testFileNamesPeersSendFollowTheNameRule() {
        for name in Self.refusedFileNames {
            assertRefused(done(["best.h5", name]), "name", "DONE header: field 'files[1].name'")
            assertRefused(offer(name), "name", "OFFER header: field 'file.name'")
        }
        var assign = Samples.all[3]
        if case .assign(var body) = assign {
            body.dataset?.name = "../dataset.h5"
            assign = .assign(body)
        }
        assertRefused(assign, "name", "ASSIGN header: field 'dataset.name'")
        // The refusal never repeats the name (it may hold anything), except a reserved one, which is safe to show.
        XCTAssertFalse(decodeError(frames(offer("../../x\nforged log line")))?.description.contains("forged") ?? true)
        assertRefused(offer("metrics.jsonl"), "name", "'metrics.jsonl', a name the coordinator writes itself")
    }

    func testTheNamesWorkersSendTodayAreAccepted() throws {
        let names = [
            "last.h5", "best.h5", "best.slim.h5", "predictions.h5", "model_epoch-3.pt", "weights.safetensors",
            "x", "attempt-1.log.h5", "attempt-x.log", "metrics.jsonl.h5", String(repeating: "c", count: 128),
        ]
        for name in names {
            XCTAssertNoThrow(try MessageCodec.decode(frames(offer(name))), name)
        }
        XCTAssertEqual(try MessageCodec.decode(frames(done(names))), done(names))
    }

    func testHelloLabelsAreShortAndPrintable() {
        let base = Hello(
            worker: "w", incarnation: "i", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "v", blasCore: "b",
            resuming: [])
        var hello = base
        hello.worker = ""
        assertRefused(.hello(hello), "name", "field 'worker' is empty")
        hello = base
        hello.worker = "w\nforged"
        assertRefused(.hello(hello), "name", "field 'worker' contains a control character")
        hello = base
        hello.host = String(repeating: "h", count: 257)
        assertRefused(.hello(hello), "name", "field 'host' is 257 bytes")
        hello = base
        hello.incarnation = "\u{1B}[2J"
        assertRefused(.hello(hello), "name", "field 'incarnation' contains a control character")
        hello = base
        hello.host = ""
        XCTAssertNoThrow(try MessageCodec.decode(frames(.hello(hello))))
    }

    func testAWorkerLabelIsShortPrintableASCII() throws {
        let base = Hello(
            worker: "w", incarnation: "i", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "v", blasCore: "b",
            resuming: [], label: "slurm:1234_5")
        XCTAssertEqual(try MessageCodec.decode(frames(.hello(base))), .hello(base))
        var hello = base
        hello.label = String(repeating: "x", count: 64)
        XCTAssertNoThrow(try MessageCodec.decode(frames(.hello(hello))))
        for (label, fragment) in [
            (String(repeating: "x", count: 65), "65 bytes"), ("", "0 bytes"), ("slurm:1\n2", "printable ASCII"),
            ("gpu\u{1B}[2J", "printable ASCII"), ("café", "printable ASCII"), ("a\u{202E}b", "printable ASCII"),
        ] {
            hello.label = label
            assertRefused(.hello(hello), "name", "field 'label' is not a worker label (\(WorkerLabel.rule)")
            assertRefused(.hello(hello), "name", fragment)
        }
        // Absent, it is not on the wire at all (older peers' HELLO is unchanged).
        hello.label = nil
        let text = String(decoding: frames(.hello(hello)).last ?? [], as: UTF8.self)
        XCTAssertFalse(text.contains("label"), text)
        // A status reply's row carries the label on to `ablate status`, under the same rule.
        func reply(_ label: String) -> Message {
            .statusReply(
                StatusReply(
                    sweep: "s",
                    rows: [
                        StatusReply.Row(
                            cell: Samples.cell, variant: "a", seed: 1, stage: "2", state: "running", worker: "w",
                            attempt: 1, epoch: 0, epochs: 1, bestValMacroF1: nil, etaSeconds: nil, workerLabel: label)
                    ]))
        }
        XCTAssertEqual(try MessageCodec.decode(frames(reply("slurm:7_0"))), reply("slurm:7_0"))
        assertRefused(reply("a\rb"), "name", "field 'rows[0].worker_label' is not a worker label")
        let worker = StatusReply.Worker(worker: "w", host: "h", slots: 1, gpus: nil, cells: 0, label: "x\u{7F}")
        assertRefused(
            .statusReply(StatusReply(sweep: "s", rows: [], workers: [worker])), "name",
            "field 'workers[0].label' is not a worker label")
    }

    func testLogMessagesOverTheSpecLimitsAreRefused() throws {
        func log(_ lines: [String]) -> Message { .log(LogLines(cell: Samples.cell, attempt: 1, lines: lines)) }
        assertRefused(log(Array(repeating: "x", count: 501)), "limit", "field 'lines' lists 501 entries, more than 500")
        assertRefused(log(Array(repeating: "", count: 20_000)), "limit", "lists 20000 entries")
        assertRefused(
            log(["ok", String(repeating: "y", count: 8192)]), "limit",
            "field 'lines[1]' is 8192 bytes, longer than 4096")
        assertRefused(log(["ok", String(repeating: "é", count: 2049)]), "limit", "field 'lines[1]' is 4098 bytes")
        // 40 lines of 4 KiB: each line is allowed, the message (160 KiB) is not.
        assertRefused(
            log(Array(repeating: String(repeating: "z", count: 4096), count: 40)), "limit", "more than 131072")
        let largest = Array(repeating: String(repeating: "z", count: 4095), count: 32)
        XCTAssertEqual(FieldLimits.logBytes(largest), 131_072)
        XCTAssertEqual(try MessageCodec.decode(frames(log(largest))), log(largest))
        XCTAssertNoThrow(try MessageCodec.decode(frames(log(Array(repeating: "x", count: 500)))))
    }

    func testOfferedFileSizesAreBounded() throws {
        let tooLarge = FieldLimits.maxFileBytes + 1
        assertRefused(
            offer("last.h5", size: 1 << 40), "limit",
            "field 'file.size' is 1099511627776 bytes, more than the largest file")
        assertRefused(offer("last.h5", size: tooLarge), "limit", "field 'file.size'")
        assertRefused(
            .done(
                Done(
                    cell: Samples.cell, attempt: 1, summary: "{}",
                    files: [ArtifactRef(name: "best.h5", sha256: Samples.sha, size: tooLarge)])),
            "limit", "field 'files[0].size'")
        assertRefused(
            .chunk(FileChunk(sha256: Samples.sha, offset: 0, totalSize: tooLarge, payload: [1])), "limit",
            "CHUNK header: field 'total size'")
        XCTAssertNoThrow(try MessageCodec.decode(frames(offer("last.h5", size: FieldLimits.maxFileBytes))))
        // Artifacts the coordinator hands out (a large dataset) are not a worker's files: no bound there.
        var assign = Samples.all[3]
        if case .assign(var body) = assign {
            body.dataset?.size = tooLarge
            assign = .assign(body)
        }
        XCTAssertNoThrow(try MessageCodec.decode(frames(assign)))
    }

    func testJobListsAndSlotsAreBounded() throws {
        let jobs = (0..<257).map { JobProgress(cell: Samples.cell, attempt: $0, epoch: 0) }
        let hello = Hello(
            worker: "w", incarnation: "i", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "v", blasCore: "b",
            resuming: jobs)
        assertRefused(.hello(hello), "limit", "field 'resuming' lists 257 entries, more than 256")
        var many = hello
        many.resuming = (0..<7000).map { JobProgress(cell: Samples.cell, attempt: $0, epoch: 0) }
        assertRefused(.hello(many), "limit", "lists 7000 entries")
        assertRefused(
            .heartbeat(Heartbeat(progress: jobs)), "limit", "HEARTBEAT header: field 'progress' lists 257 entries")
        var wide = hello
        wide.resuming = []
        wide.slots = 257
        assertMalformed(frames(.hello(wide)), "field 'slots' is 257, must be in 0...256")
        var fits = hello
        fits.resuming = Array(jobs.prefix(256))
        fits.slots = 0
        XCTAssertEqual(
            try MessageCodec.decode(frames(.hello(fits))), .hello(fits),
            "a worker with no slots may still resume its jobs")
    }
}
