// PartFileTests: the hashed, in-order receiver of streamed files and the positional reads that feed it.
import AblateSupport
import Crypto
import Foundation
import TestSupport
import TransferKit
import WireProtocol
import WorkerKit
import XCTest

final class PartFileTests: XCTestCase {
    private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = PCG64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    private func sha(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }

    /// Pieces read with `readChunk` (the last one short) and appended in order rebuild the file, verified by hash,
    /// across the early-writeback threshold (set small here so it triggers many times).
    func testChunksReadAndAppendedInOrderRebuildTheFile() throws {
        let directory = TemporaryDirectory()
        let source = bytes(1_000_003, seed: 1)
        directory.write("source.bin", bytes: source)
        let part = try PartFile(
            path: directory.file("x.part"), sha256: sha(source), size: Int64(source.count), resume: false,
            writebackBytes: 100_000)
        var offset: Int64 = 0
        while offset < Int64(source.count) {
            let chunk = try readChunk(directory.file("source.bin"), offset: offset, length: 65_536)
            XCTAssertEqual(chunk.count, min(65_536, source.count - Int(offset)))
            XCTAssertTrue(try part.append(chunk, at: offset))
            offset += Int64(chunk.count)
        }
        XCTAssertTrue(part.isComplete)
        XCTAssertNil(try part.finish())
        XCTAssertEqual(FileManager.default.contents(atPath: directory.file("x.part")).map { [UInt8]($0) }, source)
    }

    /// A piece that does not continue the bytes held is refused and writes nothing; a wrong digest removes the file.
    func testOutOfOrderPiecesAreRefusedAndAMismatchIsDiscarded() throws {
        let directory = TemporaryDirectory()
        let source = bytes(3000, seed: 2)
        let part = try PartFile(
            path: directory.file("y.part"), sha256: String(repeating: "0", count: 64), size: 3000, resume: false)
        XCTAssertFalse(try part.append(Array(source[1000..<2000]), at: 1000))
        XCTAssertEqual(part.held, 0)
        XCTAssertTrue(try part.append(Array(source[0..<1000]), at: 0))
        XCTAssertFalse(try part.append(Array(source[0..<1000]), at: 0), "a duplicate is not appended twice")
        XCTAssertTrue(try part.append(Array(source[1000..<3000]), at: 1000))
        XCTAssertEqual(try part.finish(), sha(source), "the digest actually received is returned")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("y.part")))
    }

    /// A transfer broken after some bytes resumes from the `.part` file: its bytes are kept and hashed, the rest
    /// follows, and the whole verifies.
    func testResumeKeepsTheBytesHeld() throws {
        let directory = TemporaryDirectory()
        let source = bytes(5000, seed: 3)
        let first = try PartFile(path: directory.file("z.part"), sha256: sha(source), size: 5000, resume: true)
        XCTAssertTrue(try first.append(Array(source[0..<1234]), at: 0))
        first.close()
        let second = try PartFile(path: directory.file("z.part"), sha256: sha(source), size: 5000, resume: true)
        XCTAssertEqual(second.held, 1234)
        XCTAssertTrue(try second.append(Array(source[1234...]), at: 1234))
        XCTAssertNil(try second.finish())
    }

    func testReadChunkNamesAMissingFile() {
        XCTAssertThrowsError(try readChunk("/nonexistent/ablate-file", offset: 0, length: 10)) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/ablate-file: cannot open"), "\(error)")
        }
    }
    /// `sendChunk` lends a file's range to libzmq from its mapping: the ROUTER receives the CHUNK that
    /// `MessageCodec.encode` gives for the same bytes, also when the source unmaps the file while the frame is still
    /// queued, and `receiveFrames` keeps that payload in the received message. With the first byte flipped (read with
    /// `pread` instead), the same. A file shorter than the order says is an error naming it, and nothing is sent.
    func testSendChunkSendsTheFilesBytesAsOneChunk() throws {
        let directory = TemporaryDirectory()
        let source = bytes(300_001, seed: 3)
        directory.write("source.bin", bytes: source)
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        try router.configureCoordinatorRouter(maxFrameBytes: FrameLimits().socketMaxFrameBytes)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.configureWorkerDealer()
        try dealer.connect(try router.lastEndpoint)
        func receive() throws -> [[UInt8]] {
            for _ in 0..<100 {
                if let frames = try router.receive() { return Array(frames.dropFirst()) }
                _ = try ZMQPoller(sockets: [router]).poll(timeoutMs: 50)
            }
            throw FileWriteError(path: "router", detail: "nothing arrived")
        }

        let order = ChunkOrder(
            sha256: sha(source), path: directory.file("source.bin"), offset: 100_000, length: 200_001,
            totalSize: 300_001)
        let chunks = ChunkSource()
        let deadline = Date().addingTimeInterval(5)
        while try !dealer.sendChunk(order, from: chunks) {
            guard Date() < deadline else { return XCTFail("DEALER never connected") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let expected = FileChunk(
            sha256: order.sha256, offset: 100_000, totalSize: 300_001, payload: Array(source[100_000...]))
        XCTAssertEqual(try receive(), MessageCodec.encode(.chunk(expected)))

        // Unmapped by the source at once: the frame still queued keeps the mapping alive until libzmq has sent it.
        // Received without a copy: the payload stays in the libzmq message.
        XCTAssertTrue(try dealer.sendChunk(order, from: chunks))
        chunks.forget(order.path)
        _ = try ZMQPoller(sockets: [router]).poll(timeoutMs: 5000)
        let frames = try XCTUnwrap(try router.receiveFrames(dontWait: false))
        XCTAssertTrue(frames[4].isKeptMessage, "a 200,001-byte payload is kept as received")
        XCTAssertFalse(frames[3].isKeptMessage, "the header is copied")
        guard case .chunk(let received) = try MessageCodec.decode(Array(frames.dropFirst())) else {
            return XCTFail("not a CHUNK")
        }
        XCTAssertEqual(received, expected)
        XCTAssertEqual(received.payload.array, Array(source[100_000...]))

        XCTAssertTrue(try dealer.sendChunk(order, from: chunks, corruptFirstByte: true))
        var corrupted = Array(source[100_000...])
        corrupted[0] ^= 0xFF
        XCTAssertEqual(
            try receive(),
            MessageCodec.encode(
                .chunk(FileChunk(sha256: order.sha256, offset: 100_000, totalSize: 300_001, payload: corrupted))))

        var beyond = order
        beyond.length = 200_002
        XCTAssertThrowsError(try dealer.sendChunk(beyond, from: chunks)) { error in
            XCTAssertTrue("\(error)".contains("source.bin"), "\(error)")
            XCTAssertTrue("\(error)".contains("before the 300001 bytes offered"), "\(error)")
        }
        _ = try ZMQPoller(sockets: [router]).poll(timeoutMs: 200)
        XCTAssertNil(try router.receive(), "nothing was sent for the short read")
    }
}
