// TransferReceiverSpaceTests: credit withheld while the state directory lacks room, resumed when it returns; parts removed.
import CoordinatorKit
import Foundation
import TestSupport
import TransferKit
import WireProtocol
import XCTest

final class TransferReceiverSpaceTests: XCTestCase {
    private let chunkBytes = 1_000
    private let peer: PeerID = [7]
    private let cell = String(repeating: "c", count: 64)

    private func digest(_ bytes: [UInt8]) -> String {
        let digest = BackgroundDigest()
        digest.update(FrameBytes(bytes))
        return digest.finish()
    }

    private func chunk(_ bytes: [UInt8], _ index: Int, sha: String) -> FileChunk {
        let start = index * chunkBytes
        return FileChunk(
            sha256: sha, offset: Int64(start), totalSize: Int64(bytes.count),
            payload: Array(bytes[start..<min(bytes.count, start + chunkBytes)]))
    }

    private func file(seed: Int) -> (bytes: [UInt8], sha: String) {
        let bytes = (0..<6_500).map { UInt8(($0 * 13 + seed) % 256) }
        return (bytes, digest(bytes))
    }

    private func offer(_ sha: String, attempt: Int = 1, name: String = "last.h5") -> Offer {
        Offer(cell: cell, attempt: attempt, epoch: 1, file: ArtifactRef(name: name, sha256: sha, size: 6_500))
    }

    private func credit(_ sha: String, from offset: Int) -> TransferReceiver.Outcome {
        .send(.credit(Credit(sha256: sha, offset: Int64(offset), chunks: 4)))
    }

    /// An offer that would leave less than the reserve gets no credit and the receiver says why; once a reading shows
    /// room (checked at most every second) the held offer is credited to its peer, and the pause ends.
    func testCreditIsWithheldWhileShortAndGrantedWhenRoomReturns() throws {
        let directory = TemporaryDirectory()
        var free: Int64 = 7_000
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: try ArtifactStore(stateDirectory: directory.path),
            window: 4, reserveBytes: 1_000, freeBytes: { free })
        let (_, sha) = file(seed: 0)
        XCTAssertEqual(
            try receiver.accept(offer(sha), peer: peer, now: 0), .none,
            "6,500 bytes + 1,000 reserved do not fit in 7,000")
        XCTAssertEqual(receiver.heldCount, 1)
        XCTAssertEqual(receiver.gate.statusLine, "paused: state directory full (0.0 MB free, need 0.0 MB)")
        XCTAssertEqual(receiver.gate.shortage?.neededBytes, 7_500)
        free = 100_000
        XCTAssertTrue(receiver.resumeHeld(now: 0.5).isEmpty, "not re-checked before a second has passed")
        let resumed = receiver.resumeHeld(now: 1)
        XCTAssertEqual(resumed.map(\.peer), [peer])
        XCTAssertEqual(resumed.map(\.outcome), [credit(sha, from: 0)])
        XCTAssertEqual(receiver.heldCount, 0)
        XCTAssertNil(receiver.gate.statusLine)
    }

    /// A transfer under way is held at its next credit when room runs out; chunks already credited are still appended,
    /// and when room returns the credit continues from the bytes held (nothing is resent, nothing is lost).
    func testAFlowingTransferPausesAtItsNextCreditAndResumesFromTheBytesHeld() throws {
        let directory = TemporaryDirectory()
        var free: Int64 = 100_000
        let store = try ArtifactStore(stateDirectory: directory.path)
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: store, window: 4, reserveBytes: 1_000, freeBytes: { free })
        let (bytes, sha) = file(seed: 1)
        XCTAssertEqual(try receiver.accept(offer(sha), peer: peer, now: 0), credit(sha, from: 0))
        XCTAssertEqual(try receiver.receive(chunk(bytes, 0, sha: sha), now: 0), .none)
        free = 3_000
        XCTAssertEqual(
            try receiver.receive(chunk(bytes, 1, sha: sha), now: 0), .none,
            "no credit: 4,500 more + 1,000 reserved do not fit")
        XCTAssertEqual(receiver.heldCount, 1)
        XCTAssertEqual(
            try receiver.receive(chunk(bytes, 2, sha: sha), now: 0.1), .none, "a credited chunk in flight is kept")
        XCTAssertEqual(try receiver.receive(chunk(bytes, 3, sha: sha), now: 0.2), .none)
        XCTAssertTrue(receiver.resumeHeld(now: 1).isEmpty, "still short")
        free = 10_000
        XCTAssertEqual(receiver.resumeHeld(now: 2).map(\.outcome), [credit(sha, from: 4_000)])
        XCTAssertEqual(try receiver.receive(chunk(bytes, 4, sha: sha), now: 2), .none)
        XCTAssertEqual(try receiver.receive(chunk(bytes, 5, sha: sha), now: 2), credit(sha, from: 6_000))
        guard case .stored(let path, _) = try receiver.receive(chunk(bytes, 6, sha: sha), now: 2) else {
            return XCTFail("not stored")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: store.absolute(path)).map { [UInt8]($0) }, bytes)
    }

    /// A chunk that the disk refuses (a one-page tmpfs; needs root) drops the part file and holds the transfer; when
    /// a reading shows room, the worker is told to reconnect (DISCONNECT) and its new offer starts from the first byte.
    func testAChunkTheDiskRefusesRestartsTheTransferWhenRoomReturns() throws {
        guard getuid() == 0 else { throw XCTSkip("mounts a tmpfs and needs root; skipped") }
        let directory = TemporaryDirectory()
        let disk = directory.file("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = try Subprocess.capture("/bin/mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", disk])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mounted.stderr); skipped") }
        defer { _ = try? Subprocess.capture("/bin/umount", ["-l", disk]) }
        var free: Int64 = 100_000
        let receiver = try TransferReceiver(
            stateDirectory: disk, store: try ArtifactStore(stateDirectory: disk), window: 8,
            reserveBytes: 0, freeBytes: { free })
        let (bytes, sha) = file(seed: 5)
        XCTAssertEqual(
            try receiver.accept(offer(sha), peer: peer, now: 0),
            .send(.credit(Credit(sha256: sha, offset: 0, chunks: 8))))
        // Buffered writes fail at the chunk past the page; direct ones are staged and fail when the file is completed.
        var failedAt: Int?
        for index in 0..<7 where failedAt == nil {
            if case .stored = try receiver.receive(chunk(bytes, index, sha: sha), now: 0) {
                return XCTFail("6,500 bytes do not fit in 4 KiB")
            }
            if receiver.heldCount == 1 { failedAt = index }
        }
        XCTAssertNotNil(failedAt, "a write past the tmpfs's one page fails")
        XCTAssertNotNil(receiver.gate.shortage?.failure)
        XCTAssertEqual(receiver.takeFailures().count, 1, "the failed write is reported once, for the log")
        XCTAssertEqual(receiver.takeFailures(), [])
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "\(disk)/incoming/\(sha).part"), "the part file is dropped")
        XCTAssertEqual(
            try receiver.receive(chunk(bytes, 0, sha: sha), now: 0.1), .none, "chunks after the failure are dropped")
        free = 0
        XCTAssertTrue(receiver.resumeHeld(now: 1).isEmpty, "no room yet")
        free = 100_000
        let resumed = receiver.resumeHeld(now: 2)
        XCTAssertEqual(resumed.map(\.peer), [peer])
        guard case .send(.disconnect) = resumed.first?.outcome else {
            return XCTFail("expected DISCONNECT, got \(resumed)")
        }
        XCTAssertEqual(
            try receiver.accept(offer(sha), peer: peer, now: 2),
            .send(.credit(Credit(sha256: sha, offset: 0, chunks: 8))),
            "the re-offer starts from the first byte")
        XCTAssertNil(receiver.gate.shortage)
    }

    /// A newer version of the same file of a cell ends the older transfer; a transfer whose attempt ended is removed;
    /// part files found at start are removed unless an offer claimed them.
    func testPartFilesThatCannotResumeAreRemoved() throws {
        let directory = TemporaryDirectory()
        let incoming = directory.file("incoming")
        try FileManager.default.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        let (bytes, older) = file(seed: 2)
        let (_, newer) = file(seed: 3)
        let (_, best) = file(seed: 4)
        let leftover = String(repeating: "f", count: 64)
        directory.write("incoming/\(leftover).part", text: "abandoned")
        directory.write("incoming/\(best).part", text: "resumable")
        let receiver = try TransferReceiver(
            stateDirectory: directory.path, store: try ArtifactStore(stateDirectory: directory.path), window: 4)
        XCTAssertEqual(receiver.unclaimed, [leftover, best])
        func parts() -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: incoming)) ?? []) }

        XCTAssertEqual(
            try receiver.accept(offer(best, name: "best.h5"), peer: peer), credit(best, from: 9),
            "the part found at start resumes")
        XCTAssertEqual(try receiver.accept(offer(older), peer: peer), credit(older, from: 0))
        XCTAssertEqual(try receiver.receive(chunk(bytes, 0, sha: older)), .none)
        XCTAssertTrue(parts().contains("\(older).part"))
        XCTAssertEqual(try receiver.accept(offer(newer), peer: peer), credit(newer, from: 0))
        XCTAssertFalse(parts().contains("\(older).part"), "the older last.h5 of the cell is no longer wanted")
        XCTAssertEqual(receiver.activeCount, 2)

        XCTAssertEqual(receiver.removeUnclaimed(), 1)
        XCTAssertEqual(parts(), ["\(best).part", "\(newer).part"])
        let gone = receiver.abandon { $0.file.name == "last.h5" }
        XCTAssertEqual(gone.map(\.file.sha256), [newer])
        XCTAssertEqual(parts(), ["\(best).part"])
        XCTAssertEqual(receiver.activeCount, 1)
    }
}
