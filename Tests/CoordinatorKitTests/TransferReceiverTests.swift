// TransferReceiverTests: a streamed file's credits (one per half window), gaps, duplicates and the stored outcome.
import CoordinatorKit
import Foundation
import TestSupport
import TransferKit
import WireProtocol
import XCTest

final class TransferReceiverTests: XCTestCase {
    private let chunkBytes = 1_000

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

    /// With a window of 4 the worker hears one CREDIT per two chunks, each for a whole window from the bytes held;
    /// a gap is answered at once from the bytes held, a duplicate not at all, and the last chunk stores the file.
    func testCreditEveryHalfWindowGapsAndTheStoredFile() throws {
        let directory = TemporaryDirectory()
        let bytes = (0..<6_500).map { UInt8(($0 * 13) % 256) }
        let sha = digest(bytes)
        let store = try ArtifactStore(stateDirectory: directory.path)
        let receiver = try TransferReceiver(stateDirectory: directory.path, store: store, window: 4)
        XCTAssertEqual(receiver.creditEvery, 2)
        let offer = Offer(
            cell: String(repeating: "c", count: 64), attempt: 1, epoch: 1,
            file: ArtifactRef(name: "last.h5", sha256: sha, size: Int64(bytes.count)))
        func credit(from offset: Int) -> TransferReceiver.Outcome {
            .send(.credit(Credit(sha256: sha, offset: Int64(offset), chunks: 4)))
        }

        XCTAssertEqual(try receiver.accept(offer), credit(from: 0))
        XCTAssertEqual(try receiver.receive(chunk(bytes, 0, sha: sha)), .none)
        XCTAssertEqual(try receiver.receive(chunk(bytes, 1, sha: sha)), credit(from: 2_000))
        XCTAssertEqual(try receiver.receive(chunk(bytes, 1, sha: sha)), .none, "a duplicate is dropped silently")
        XCTAssertEqual(
            try receiver.receive(chunk(bytes, 3, sha: sha)), credit(from: 2_000), "a gap is answered at once")
        XCTAssertEqual(try receiver.receive(chunk(bytes, 2, sha: sha)), .none)
        XCTAssertEqual(try receiver.receive(chunk(bytes, 3, sha: sha)), credit(from: 4_000))
        XCTAssertEqual(try receiver.receive(chunk(bytes, 4, sha: sha)), .none)
        // A re-offer (after a reconnect) restarts the count from the bytes held.
        XCTAssertEqual(try receiver.accept(offer), credit(from: 5_000))
        XCTAssertEqual(try receiver.receive(chunk(bytes, 5, sha: sha)), .none)
        guard case .stored(let path, let claims) = try receiver.receive(chunk(bytes, 6, sha: sha)) else {
            return XCTFail("the last chunk should store the file")
        }
        XCTAssertEqual(claims, [TransferReceiver.Claim(offer: offer, peer: [])])
        let held = FileManager.default.contents(atPath: store.absolute(path)).map { [UInt8]($0) }
        XCTAssertTrue(
            held == bytes, "the stored file holds \(held?.count ?? 0) of \(bytes.count) bytes, or other bytes")
        XCTAssertEqual(receiver.activeCount, 0)
    }

    /// Windows of 1 to 3 chunks are credited after every chunk (half a window rounds down to at least one).
    func testSmallWindowsAreCreditedEveryChunk() throws {
        let directory = TemporaryDirectory()
        let store = try ArtifactStore(stateDirectory: directory.path)
        for window in 1...3 {
            XCTAssertEqual(
                try TransferReceiver(stateDirectory: directory.path, store: store, window: window).creditEvery, 1)
        }
        XCTAssertEqual(try TransferReceiver(stateDirectory: directory.path, store: store, window: 16).creditEvery, 8)
    }
}
