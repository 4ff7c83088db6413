// PersistenceBacklogTests: a write that fails for want of room is not acknowledged, waits in order and is retried.
import CoordinatorKit
import Foundation
import WireProtocol
import XCTest

final class PersistenceBacklogTests: XCTestCase {
    private let peer: PeerID = [1]
    private let full = LedgerError(
        .full, path: "ledger.sqlite", operation: "append metrics", message: "the disk is full")

    private func hello() -> Message {
        .hello(
            Hello(
                worker: "w1", incarnation: "aa", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                blasCore: "x", resuming: []))
    }

    private func report(epoch: Int) -> Message {
        .metrics(
            MetricsReport(
                cell: SchedulerTests.cellID(1), attempt: 1, seq: epoch, epoch: epoch, valMacroF1: 0.5, valLoss: 1,
                trainLoss: 1, seconds: 2, record: "{\"epoch\":\(epoch)}"))
    }

    /// What a perform closure did, by kind, in order.
    private func describe(_ action: SchedulerAction) -> String {
        switch action {
        case .storeMetrics(let record): "store \(record.seq)"
        case .saveCell: "save"
        case .send(_, .metricsAck(let ack)): "ack \(ack.seq)"
        case .send(_, .heartbeat): "heartbeat"
        case .send(_, let message): "send \(message.command)"
        default: "other"
        }
    }

    /// The scheduler's METRICS batch meets a full ledger: nothing is acknowledged, a heartbeat still goes out, a later
    /// report waits behind the first (its ack too), and once room returns everything goes in order, each ack after
    /// its write.
    func testAMetricsWriteThatFailsIsNotAcknowledgedUntilItIsStored() throws {
        var scheduler = Scheduler(
            settings: CoordinatorSettings(), incarnation: "1", cells: [SchedulerTests.cell(1)], files: [],
            artifacts: [SchedulerTests.dataset.sha256: SchedulerTests.dataset.size],
            dataset: SchedulerTests.dataset, stage1Checkpoint: SchedulerTests.stage1, now: 0)
        _ = scheduler.handle(hello(), from: peer, now: 0)
        let backlog = PersistenceBacklog(retrySeconds: 1)
        var diskFull = true
        var done: [String] = []
        let perform: (SchedulerAction) throws -> Void = { action in
            if diskFull, case .storeMetrics = action { throw self.full }
            if diskFull, case .saveCell = action { throw self.full }
            done.append(self.describe(action))
        }

        let failure = try backlog.run(
            scheduler.handle(report(epoch: 1), from: peer, now: 1), now: 1,
            isRetryable: CoordinatorServer.mayPass, perform: perform)
        XCTAssertNotNil(failure)
        XCTAssertEqual(done, [], "no METRICS_ACK for a report that was not stored")
        try backlog.run(
            [.send(peer, .heartbeat(Heartbeat()))], now: 1.1, isRetryable: CoordinatorServer.mayPass, perform: perform)
        XCTAssertEqual(done, ["heartbeat"], "heartbeats go out while writes wait")
        diskFull = false
        try backlog.run(
            scheduler.handle(report(epoch: 2), from: peer, now: 1.2), now: 1.2, isRetryable: CoordinatorServer.mayPass,
            perform: perform)
        XCTAssertEqual(done, ["heartbeat"], "a later report waits behind the first, even with room")
        XCTAssertEqual(
            try backlog.retry(now: 1.5, isRetryable: CoordinatorServer.mayPass, perform: perform), 0,
            "not before the retry time")
        XCTAssertEqual(try backlog.retry(now: 2.0, isRetryable: CoordinatorServer.mayPass, perform: perform), 6)
        XCTAssertEqual(done, ["heartbeat", "store 1", "save", "ack 1", "store 2", "save", "ack 2"])
        XCTAssertTrue(backlog.isEmpty)
        XCTAssertNil(backlog.lastFailure)
    }

    /// A retry that fails again keeps everything and waits another interval; a refusal that cannot pass is rethrown.
    func testARetryThatFailsAgainWaitsAndARefusalIsRethrown() throws {
        let backlog = PersistenceBacklog(retrySeconds: 1)
        var attempts = 0
        let record = MetricsRecord(
            cell: SchedulerTests.cellID(1), attempt: 1, seq: 1, epoch: 1, valMacroF1: 0.5, record: "{}", receivedAt: 0)
        let failing: (SchedulerAction) throws -> Void = { _ in
            attempts += 1; throw self.full
        }
        try backlog.run(
            [.storeMetrics(record), .send(peer, .metricsAck(MetricsAck(cell: record.cell, attempt: 1, seq: 1)))],
            now: 0, isRetryable: CoordinatorServer.mayPass, perform: failing)
        XCTAssertEqual(try backlog.retry(now: 1, isRetryable: CoordinatorServer.mayPass, perform: failing), 0)
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(try backlog.retry(now: 1.5, isRetryable: CoordinatorServer.mayPass, perform: failing), 0)
        XCTAssertEqual(attempts, 2, "the next retry waits a full interval")
        XCTAssertEqual(backlog.queue.count, 2)

        let fresh = PersistenceBacklog()
        let refused = LedgerError(.alreadyDone, path: "ledger.sqlite", operation: "update cell", message: "done")
        XCTAssertThrowsError(
            try fresh.run(
                [.storeMetrics(record)], now: 0, isRetryable: CoordinatorServer.mayPass, perform: { _ in throw refused }
            ))
        XCTAssertTrue(fresh.isEmpty)
    }
}
