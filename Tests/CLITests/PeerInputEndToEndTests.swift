// PeerInputEndToEndTests: a hostile peer against a real coordinator — bad names, oversized and stale traffic are
// refused, counted and throttled, and the coordinator keeps serving.
import CoordinatorKit
import Foundation
import TestSupport
import WireProtocol
import XCTest

/// Speaks the protocol from the test process (a DEALER) to an `ablate coordinator` and sends what no worker should.
final class PeerInputEndToEndTests: XCTestCase {
    /// Sends `message` until the socket queues it.
    private func send(_ dealer: ZMQSocket, _ message: Message) throws {
        try sendFrames(dealer, MessageCodec.encode(message))
    }

    private func sendFrames(_ dealer: ZMQSocket, _ frames: [[UInt8]]) throws {
        let deadline = Date().addingTimeInterval(10)
        while try !dealer.send(frames) {
            guard Date() < deadline else { return XCTFail("could not queue a message") }
            usleep(10_000)
        }
    }

    /// What arrives within `seconds` (or until `stop` holds).
    private func receive(_ dealer: ZMQSocket, seconds: Double, until stop: ([Message]) -> Bool = { _ in false }) throws
        -> [Message]
    {
        var messages: [Message] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !stop(messages) {
            _ = try ZMQPoller(sockets: [dealer]).poll(timeoutMs: 20)
            while let frames = try dealer.receive() {
                if let message = try? MessageCodec.decode(frames) { messages.append(message) }
            }
        }
        return messages
    }

    func testHostileNamesSizesAndFloodsAreRefusedAndTheCoordinatorKeepsServing() throws {
        let directory = TemporaryDirectory()
        let sweep = try LocalCluster.tinySweep(in: directory, name: "peer")
        let state = directory.file("state")
        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }
        try processes.start(
            "coordinator",
            [
                "coordinator", "--sweep", sweep, "--state", state, "--bind", "tcp://127.0.0.1:*",
                "--heartbeat-ms", "1000", "--keep-serving",
            ])
        let log = try processes.waitForLog("coordinator", containing: "listening on", timeout: 60)
        let endpoint = try XCTUnwrap(
            log.split(separator: "\n").first { $0.contains("listening on") }?.split(separator: " ").last.map(
                String.init))

        let context = try ZMQContext()
        let dealer = try ZMQSocket(context, type: .dealer)
        defer { dealer.close() }
        try dealer.configureWorkerDealer()
        try dealer.connect(endpoint)
        try send(
            dealer,
            .hello(
                Hello(
                    worker: "hostile", incarnation: "01", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                    blasCore: "x", resuming: [])))
        let opening = try receive(dealer, seconds: 30) { $0.contains { if case .assign = $0 { true } else { false } } }
        let assign = try XCTUnwrap(
            opening.lazy.compactMap { if case .assign(let a) = $0 { a } else { nil } }.first, "\(opening)")
        let cell = assign.cell
        let attempt = assign.attempt
        let sha = String(repeating: "ab", count: 32)

        let badNames = [
            "../../../../escape-rel.h5", "", ".", "..", "sub/dir/x.h5", "/tmp/abs.h5",
            String(repeating: "n", count: 300),
            "metrics.jsonl", "summary.json", "attempt-1.log",
        ]
        for name in badNames {
            let file = ArtifactRef(name: name, sha256: sha, size: 10)
            try send(dealer, .offer(Offer(cell: cell, attempt: attempt, epoch: 1, file: file)))
            try send(dealer, .done(Done(cell: cell, attempt: attempt, summary: "{}", files: [file])))
        }
        try send(
            dealer,
            .offer(
                Offer(
                    cell: cell, attempt: attempt, epoch: 1,
                    file: ArtifactRef(name: "last.h5", sha256: sha, size: 1 << 40))))
        try send(dealer, .log(LogLines(cell: cell, attempt: attempt, lines: Array(repeating: "x", count: 20_000))))
        try send(dealer, .log(LogLines(cell: cell, attempt: attempt, lines: [String(repeating: "y", count: 8192)])))
        try send(
            dealer,
            .hello(
                Hello(
                    worker: "hostile", incarnation: "02", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                    blasCore: "x",
                    resuming: (1...7000).map { JobProgress(cell: String(format: "%064x", $0), attempt: 1, epoch: 0) })))
        let nan = MetricsReport(
            cell: cell, attempt: attempt, seq: 1, epoch: 1, valMacroF1: .nan, valLoss: .nan, trainLoss: .infinity,
            seconds: 1, record: #"{"epoch":1,"val_macro_f1":null}"#)
        try send(dealer, .metrics(nan))
        for seq in 1...3000 {
            try send(
                dealer,
                .metrics(
                    MetricsReport(
                        cell: cell, attempt: attempt + 50, seq: seq, epoch: 1, valMacroF1: 0.5, valLoss: 1,
                        trainLoss: 1, seconds: 1, record: "{}")))
        }
        let replies = try receive(dealer, seconds: 4)

        XCTAssertTrue(
            replies.contains(.metricsAck(MetricsAck(cell: cell, attempt: attempt, seq: 1))),
            "the NaN report is acknowledged")
        XCTAssertFalse(
            replies.contains { if case .credit = $0 { true } else { false } }, "no refused offer gets credit")
        XCTAssertFalse(replies.contains { if case .doneAck(let ack) = $0 { ack.status == .ok } else { false } })
        XCTAssertFalse(
            replies.contains { if case .cancel(let c) = $0 { c.attempt == 1 && c.cell != cell } else { false } },
            "a refused HELLO gets no CANCELs")
        XCTAssertTrue(try XCTUnwrap(processes.processes["coordinator"]).isRunning, "the coordinator keeps serving")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("escape-rel.h5")))
        let status = try AblateBinary.run(["status", "--connect", endpoint])
        XCTAssertEqual(status.status, 0, status.stderr)

        try processes.signal("coordinator", SIGTERM)
        XCTAssertEqual(try processes.waitForExit("coordinator", timeout: 20), 0)
        let ledger = try Ledger(readingDirectory: state)
        let counters = try ledger.counters()
        XCTAssertGreaterThanOrEqual(counters["dropped_name"] ?? 0, badNames.count * 2, "\(counters)")
        XCTAssertGreaterThanOrEqual(counters["dropped_limit"] ?? 0, 4, "\(counters)")
        XCTAssertGreaterThanOrEqual(counters["stale_metrics"] ?? 0, 1000, "\(counters)")
        let stored = try ledger.metrics(cell: cell, attempt: attempt)
        XCTAssertEqual(stored.count, 1)
        XCTAssertTrue(stored.first?.valMacroF1.isNaN ?? false, "stored as sent")
        // Thousands of stale and refused messages make a handful of log lines, with their counts.
        let text = processes.logText("coordinator")
        let stale = text.split(separator: "\n").filter { $0.contains("ignored metrics") }
        XCTAssertLessThanOrEqual(stale.count, 3, "\(stale)")
        XCTAssertLessThanOrEqual(text.split(separator: "\n").filter { $0.contains("dropped a message") }.count, 6, text)
        XCTAssertTrue(text.contains("more like it") || text.contains("left out"), text)
    }
}
