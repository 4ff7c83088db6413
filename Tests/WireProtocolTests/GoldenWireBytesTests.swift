// GoldenWireBytesTests: exact frames of a few messages, pinning the wire layout (also quoted in docs/protocol.md).
import WireProtocol
import XCTest

/// Compares encoded frames with committed hex; any change to the layout or JSON key naming fails here.
final class GoldenWireBytesTests: XCTestCase {
    private func hexFrames(_ message: Message) -> [String] {
        MessageCodec.encode(message).map { Hex.encode($0) }
    }

    private func ascii(_ text: String) -> String { Hex.encode(Array(text.utf8)) }

    /// Checks the encoding and that the golden frames decode back to the message.
    private func assertGolden(
        _ message: Message, _ expected: [String], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertEqual(hexFrames(message), expected, file: file, line: line)
        let frames = try expected.map { try XCTUnwrap(Hex.decode($0)) }
        XCTAssertEqual(try MessageCodec.decode(frames), message, file: file, line: line)
    }

    func testHello() throws {
        let hello = Hello(
            worker: "w1", incarnation: "ab12", host: "h", threads: 4, gpu: nil, slots: 1, codeVersion: "0.1.0",
            blasCore: "Haswell", resuming: [])
        try assertGolden(
            .hello(hello),
            [
                "41424c01", "01",
                ascii(
                    #"{"blas_core":"Haswell","code_version":"0.1.0","host":"h","incarnation":"ab12","resuming":[],"slots":1,"threads":4,"worker":"w1"}"#
                ),
            ])
    }

    func testHeartbeat() throws {
        let heartbeat = Heartbeat(progress: [JobProgress(cell: Samples.cell, attempt: 1, epoch: 3)])
        let expected = [
            "41424c01", "03",
            "7b2270726f6772657373223a5b7b22617474656d7074223a312c2263656c6c223a22303132333435363738396162636465663031"
                + "32333435363738396162636465663031323334353637383961626364656630313233343536373839616263646566222c2265706f"
                + "6368223a337d5d7d",
        ]
        XCTAssertEqual(expected[2], ascii(#"{"progress":[{"attempt":1,"cell":"\#(Samples.cell)","epoch":3}]}"#))
        try assertGolden(.heartbeat(heartbeat), expected)
    }

    func testMetrics() throws {
        // struct.pack('>32sIII4dI', bytes.fromhex(cell), 2, 3, 3, 0.5, 1.25, 0.75, 12.5, 30) + record
        try assertGolden(
            .metrics(Samples.metrics),
            [
                "41424c01", "05",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                    + "00000002" + "00000003" + "00000003"
                    + "3fe0000000000000" + "3ff4000000000000" + "3fe8000000000000" + "4029000000000000"
                    + "0000001e" + ascii(Samples.record),
            ])
    }

    func testChunk() throws {
        try assertGolden(
            .chunk(Samples.chunk),
            [
                "41424c01", "09",
                Samples.sha + "0000000000040000" + "00000000000927c0" + "00000005",
                "0102030405",
            ])
    }

    func testAssignWithCommandAndTimeout() throws {
        let assign = Assign(
            cell: Samples.cell, attempt: 1, variant: "v", seed: 7, config: "{}",
            dataset: ArtifactRef(name: "d", sha256: Samples.sha, size: 3),
            stage1: nil, resume: nil, command: ["sh", "run.sh", "7"], timeoutSeconds: 90)
        try assertGolden(
            .assign(assign),
            [
                "41424c01", "04",
                ascii(
                    #"{"attempt":1,"cell":"\#(Samples.cell)","command":["sh","run.sh","7"],"config":"{}","#
                        + #""dataset":{"name":"d","sha256":"\#(Samples.sha)","size":3},"seed":7,"timeout_seconds":90,"variant":"v"}"#
                ),
            ])
    }

    func testLog() throws {
        try assertGolden(
            .log(LogLines(cell: Samples.cell, attempt: 2, lines: ["epoch 1", "done"])),
            [
                "41424c01", "16",
                ascii(#"{"attempt":2,"cell":"\#(Samples.cell)","lines":["epoch 1","done"]}"#),
            ])
    }

    func testStored() throws {
        try assertGolden(
            .stored(Stored(sha256: Samples.sha, status: .hashMismatch)),
            [
                "41424c01", "0a",
                ascii(#"{"sha256":"\#(Samples.sha)","status":"hash_mismatch"}"#),
            ])
    }

    func testRelease() throws {
        try assertGolden(
            .release(Release(cell: Samples.cell, attempt: 2, reason: "worker stopping")),
            [
                "41424c01", "15",
                ascii(#"{"attempt":2,"cell":"\#(Samples.cell)","reason":"worker stopping"}"#),
            ])
    }

    func testWelcomeSaysSweepFinishedOnlyWhenItIs() throws {
        try assertGolden(
            .welcome(
                Welcome(
                    session: "c-1", coordinatorIncarnation: "c", heartbeatMs: 1000, liveness: 5, chunkBytes: 262_144,
                    window: 4)),
            [
                "41424c01", "02",
                ascii(
                    #"{"chunk_bytes":262144,"coordinator_incarnation":"c","heartbeat_ms":1000,"liveness":5,"session":"c-1","window":4}"#
                ),
            ])
        try assertGolden(
            .welcome(
                Welcome(
                    session: "c-2", coordinatorIncarnation: "c", heartbeatMs: 1000, liveness: 5, chunkBytes: 262_144,
                    window: 4,
                    sweepFinished: true)),
            [
                "41424c01", "02",
                ascii(
                    #"{"chunk_bytes":262144,"coordinator_incarnation":"c","heartbeat_ms":1000,"liveness":5,"session":"c-2","sweep_finished":true,"window":4}"#
                ),
            ])
    }

    func testDisconnectSweepFinished() throws {
        try assertGolden(.disconnect(.sweepFinished), ["41424c01", "12", ascii(#"{"reason":"sweep finished"}"#)])
    }
}
