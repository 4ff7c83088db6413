// IdenticalFilesTests: two cells on two workers offer a file with the same bytes at once — each offer is answered.
import CoordinatorKit
import Foundation
import TestSupport
import TransferKit
import WireProtocol
import XCTest

/// A variant that trains exactly like the baseline (the adaptive end-to-end sweep's `twin`) writes byte-identical
/// checkpoints; run at once on two workers, both offer the same SHA-256. The scheduler and the transfer receiver are
/// driven as `CoordinatorServer` drives them (docs/protocol.md, item 9): each offer must be answered STORED at its own
/// peer, judged for its own cell and session. Before, the second offer took the transfer over and the stored file was
/// judged as the latest offer's cell coming from the peer of the last chunk: one worker was told STORED `stale` for a
/// current attempt and dropped it, the other never heard STORED and never sent DONE, and the sweep stalled.
final class IdenticalFilesTests: XCTestCase {
    private let chunkBytes = 1_000
    private let peerA: PeerID = [1]
    private let peerB: PeerID = [2]
    private let bytes = (0..<6_500).map { UInt8(($0 * 13) % 256) }

    private var sha: String {
        let digest = BackgroundDigest()
        digest.update(FrameBytes(bytes))
        return digest.finish()
    }

    private func chunk(_ index: Int) -> FileChunk {
        let start = index * chunkBytes
        return FileChunk(
            sha256: sha, offset: Int64(start), totalSize: Int64(bytes.count),
            payload: Array(bytes[start..<min(bytes.count, start + chunkBytes)]))
    }

    private func credit(from offset: Int) -> TransferReceiver.Outcome {
        .send(.credit(Credit(sha256: sha, offset: Int64(offset), chunks: 4)))
    }

    private func offer(cell n: Int) -> Offer {
        Offer(
            cell: SchedulerTests.cellID(n), attempt: 1, epoch: 1,
            file: ArtifactRef(name: "last.h5", sha256: sha, size: Int64(bytes.count)))
    }

    /// Worker a runs cell 1, worker b cell 2 (one slot each).
    private func twoWorkers() -> Scheduler {
        var scheduler = Scheduler(
            settings: CoordinatorSettings(), incarnation: "2", cells: [SchedulerTests.cell(1), SchedulerTests.cell(2)],
            files: [], artifacts: [SchedulerTests.dataset.sha256: SchedulerTests.dataset.size],
            dataset: SchedulerTests.dataset, stage1Checkpoint: SchedulerTests.stage1, now: 0)
        for (name, peer) in [("a", peerA), ("b", peerB)] {
            _ = scheduler.handle(
                .hello(
                    Hello(
                        worker: name, incarnation: name, host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                        blasCore: "x", resuming: [])), from: peer, now: 0)
        }
        XCTAssertEqual(scheduler.sessions.values.first { $0.peer == peerA }?.held, [SchedulerTests.cellID(1): 1])
        XCTAssertEqual(scheduler.sessions.values.first { $0.peer == peerB }?.held, [SchedulerTests.cellID(2): 1])
        return scheduler
    }

    /// An OFFER through the scheduler, then the receiver (what `acceptOffer` does in the server).
    private func offer(_ offer: Offer, from peer: PeerID, _ scheduler: inout Scheduler, _ receiver: TransferReceiver)
        throws -> TransferReceiver.Outcome
    {
        let actions = scheduler.handle(.offer(offer), from: peer, now: 1)
        guard actions == [.acceptOffer(peer, offer)] else {
            XCTFail("the offer should be accepted: \(actions)")
            return .none
        }
        return try receiver.accept(offer, peer: peer, now: 1)
    }

    /// A stored outcome as the server executes it: every claim judged at its own peer.
    private func executeStored(_ outcome: TransferReceiver.Outcome, _ scheduler: inout Scheduler) -> [SchedulerAction] {
        guard case .stored(_, let claims) = outcome else {
            XCTFail("the file should be stored: \(outcome)")
            return []
        }
        return claims.flatMap { claim in
            scheduler.fileStored(
                cell: claim.offer.cell, attempt: claim.offer.attempt, epoch: claim.offer.epoch, file: claim.offer.file,
                peer: claim.peer)
        }
    }

    private func recorded(_ actions: [SchedulerAction]) -> [String] {
        actions.compactMap { if case .recordCellFile(let file) = $0 { file.cell } else { nil } }.sorted()
    }

    private func sent(_ actions: [SchedulerAction], to peer: PeerID) -> [Message] {
        actions.compactMap { if case .send(let p, let m) = $0, p == peer { m } else { nil } }
    }

    /// The failing run's sequence: b offers, a offers the same bytes, b's chunks complete the file. Both are told
    /// STORED `ok` and the file is recorded for both cells; only one stream of the bytes is credited.
    func testTwoCellsOfferingTheSameBytesAtOnceAreBothAnsweredAtTheirOwnPeer() throws {
        let directory = TemporaryDirectory()
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: try ArtifactStore(stateDirectory: directory.path), window: 4)
        var scheduler = twoWorkers()

        XCTAssertEqual(try offer(offer(cell: 2), from: peerB, &scheduler, receiver), credit(from: 0))
        XCTAssertEqual(try receiver.receive(chunk(0), now: 1), .none)
        XCTAssertEqual(try receiver.receive(chunk(1), now: 1), credit(from: 2_000))
        XCTAssertEqual(
            try offer(offer(cell: 1), from: peerA, &scheduler, receiver), .none,
            "another cell's identical file is on its way: no second stream, the offer waits")
        for index in 2..<6 { _ = try receiver.receive(chunk(index), now: 1) }
        let actions = executeStored(try receiver.receive(chunk(6), now: 1), &scheduler)

        XCTAssertFalse(actions.contains(.count("stale_file")), "\(actions)")
        XCTAssertEqual(sent(actions, to: peerA), [.stored(Stored(sha256: sha, status: .ok))])
        XCTAssertEqual(sent(actions, to: peerB), [.stored(Stored(sha256: sha, status: .ok))])
        XCTAssertEqual(recorded(actions), [SchedulerTests.cellID(1), SchedulerTests.cellID(2)])
        XCTAssertEqual(receiver.activeCount, 0)
    }

    /// The streaming worker dies mid-file: once its attempt ends, the waiting offer gets CREDIT from the bytes held
    /// and completes the file, so its worker is never left waiting for a STORED that would never come.
    func testAWaitingOfferTakesOverWhenTheSendersAttemptEnds() throws {
        let directory = TemporaryDirectory()
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: try ArtifactStore(stateDirectory: directory.path), window: 4)
        var scheduler = twoWorkers()

        XCTAssertEqual(try offer(offer(cell: 2), from: peerB, &scheduler, receiver), credit(from: 0))
        XCTAssertEqual(try offer(offer(cell: 1), from: peerA, &scheduler, receiver), .none)
        _ = try receiver.receive(chunk(0), now: 1)
        _ = try receiver.receive(chunk(1), now: 1)
        _ = try receiver.receive(chunk(2), now: 1)
        // b goes silent; a keeps talking.
        XCTAssertTrue(scheduler.handle(.heartbeat(Heartbeat()), from: peerA, now: 4).isEmpty)
        XCTAssertTrue(receiver.abandon(where: { !scheduler.isRunning($0.cell, attempt: $0.attempt) }, now: 4).isEmpty)
        XCTAssertTrue(receiver.takePromotions().isEmpty, "nothing changes while the sender's attempt runs")
        _ = scheduler.tick(now: 7)
        XCTAssertFalse(scheduler.isRunning(SchedulerTests.cellID(2), attempt: 1), "b's session expired")

        XCTAssertTrue(
            receiver.abandon(where: { !scheduler.isRunning($0.cell, attempt: $0.attempt) }, now: 7).isEmpty,
            "the part file stays: a waiting offer resumes it")
        let promoted = receiver.takePromotions()
        XCTAssertEqual(promoted.map(\.peer), [peerA])
        XCTAssertEqual(promoted.map(\.outcome), [credit(from: 3_000)])
        for index in 3..<6 { _ = try receiver.receive(chunk(index), now: 7) }
        let actions = executeStored(try receiver.receive(chunk(6), now: 7), &scheduler)
        XCTAssertEqual(sent(actions, to: peerA), [.stored(Stored(sha256: sha, status: .ok))])
        XCTAssertEqual(sent(actions, to: peerB), [])
        XCTAssertEqual(recorded(actions), [SchedulerTests.cellID(1)])
    }

    /// A waiting offer is still judged for its own attempt: one that ended meanwhile is answered STORED `stale`, while
    /// the sender's current one is answered `ok`.
    func testAWaitingOfferWhoseAttemptEndedIsAnsweredStale() throws {
        let directory = TemporaryDirectory()
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: try ArtifactStore(stateDirectory: directory.path), window: 4)
        var scheduler = twoWorkers()
        XCTAssertEqual(try offer(offer(cell: 2), from: peerB, &scheduler, receiver), credit(from: 0))
        XCTAssertEqual(try offer(offer(cell: 1), from: peerA, &scheduler, receiver), .none)
        // a says HELLO again without its job (a new process): cell 1's attempt 1 ends before the file completes.
        _ = scheduler.handle(
            .hello(
                Hello(
                    worker: "a", incarnation: "a2", host: "h", threads: 1, gpu: nil, slots: 0, codeVersion: "t",
                    blasCore: "x", resuming: [])), from: peerA, now: 2)
        XCTAssertFalse(scheduler.isRunning(SchedulerTests.cellID(1), attempt: 1))
        for index in 0..<6 { _ = try receiver.receive(chunk(index), now: 2) }
        let outcome = try receiver.receive(chunk(6), now: 2)
        let actions = executeStored(outcome, &scheduler)
        XCTAssertEqual(sent(actions, to: peerB), [.stored(Stored(sha256: sha, status: .ok))])
        XCTAssertEqual(sent(actions, to: peerA), [.stored(Stored(sha256: sha, status: .stale))])
        XCTAssertEqual(recorded(actions), [SchedulerTests.cellID(2)])
    }

    /// The sender's bytes fail the hash check: it is told `hash_mismatch` at its own peer, and the waiting offer sends
    /// the file again from the first byte (its worker is not charged a mismatch it did not cause).
    func testAfterAHashMismatchTheWaitingOfferSendsTheFile() throws {
        let directory = TemporaryDirectory()
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: try ArtifactStore(stateDirectory: directory.path), window: 4)
        var scheduler = twoWorkers()
        XCTAssertEqual(try offer(offer(cell: 2), from: peerB, &scheduler, receiver), credit(from: 0))
        XCTAssertEqual(try offer(offer(cell: 1), from: peerA, &scheduler, receiver), .none)
        var corrupt = Array(bytes[0..<chunkBytes])
        corrupt[0] ^= 0xFF
        let damaged = FileChunk(sha256: sha, offset: 0, totalSize: Int64(bytes.count), payload: corrupt)
        _ = try receiver.receive(damaged, now: 1)
        for index in 1..<6 { _ = try receiver.receive(chunk(index), now: 1) }
        XCTAssertEqual(
            try receiver.receive(chunk(6), now: 1),
            .mismatch(TransferReceiver.Claim(offer: offer(cell: 2), peer: peerB)))
        let promoted = receiver.takePromotions()
        XCTAssertEqual(promoted.map(\.peer), [peerA])
        XCTAssertEqual(promoted.map(\.outcome), [credit(from: 0)])
        // b offers again after hash_mismatch: it now waits for a's stream.
        XCTAssertEqual(try offer(offer(cell: 2), from: peerB, &scheduler, receiver), .none)
        for index in 0..<6 { _ = try receiver.receive(chunk(index), now: 1) }
        let actions = executeStored(try receiver.receive(chunk(6), now: 1), &scheduler)
        XCTAssertEqual(sent(actions, to: peerA), [.stored(Stored(sha256: sha, status: .ok))])
        XCTAssertEqual(sent(actions, to: peerB), [.stored(Stored(sha256: sha, status: .ok))])
    }
}
