// SocketTests: ROUTER/DEALER over loopback TCP with encoded messages, unroutable sends, MAXMSGSIZE, the doorbell.
import Foundation
import WireProtocol
import XCTest

/// Runs the socket wrappers against the real libzmq on 127.0.0.1 with an ephemeral port.
final class SocketTests: XCTestCase {
    private let limits = FrameLimits()

    /// A bound coordinator ROUTER and a worker DEALER connected to it.
    private func pair(_ context: ZMQContext, maxFrameBytes: Int64? = nil) throws -> (ZMQSocket, ZMQSocket) {
        let router = try ZMQSocket(context, type: .router)
        try router.configureCoordinatorRouter(maxFrameBytes: maxFrameBytes ?? limits.socketMaxFrameBytes)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.configureWorkerDealer()
        try dealer.connect(try router.lastEndpoint)
        return (router, dealer)
    }

    /// Polls `socket` until a message arrives or `timeoutMs` passes.
    private func receive(_ socket: ZMQSocket, timeoutMs: Int = 5000) throws -> [[UInt8]]? {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            if let message = try socket.receive() { return message }
            _ = try ZMQPoller(sockets: [socket]).poll(timeoutMs: 50)
        }
        return nil
    }

    /// Sends, retrying while the DEALER's connection is still being made (IMMEDIATE=1 gives EAGAIN until then).
    private func sendWhenConnected(_ dealer: ZMQSocket, _ frames: [[UInt8]]) throws {
        let deadline = Date().addingTimeInterval(5)
        while try !dealer.send(frames) {
            guard Date() < deadline else { return XCTFail("DEALER never connected") }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func testRouterAndDealerExchangeEncodedMessages() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context)
        XCTAssertTrue(try router.lastEndpoint.hasPrefix("tcp://127.0.0.1:"))
        XCTAssertNotEqual(try router.lastEndpoint, "tcp://127.0.0.1:*")

        let hello = Samples.all[0]
        try sendWhenConnected(dealer, MessageCodec.encode(hello))
        let incoming = try XCTUnwrap(try receive(router))
        XCTAssertEqual(incoming.count, 4, "routing id + 3 frames")
        let identity = incoming[0]
        XCTAssertFalse(identity.isEmpty)
        XCTAssertEqual(try MessageCodec.decode(Array(incoming.dropFirst())), hello)

        let replies = [
            Samples.all[1],
            Message.data(
                FileChunk(
                    sha256: Samples.sha, offset: 0, totalSize: 100_000,
                    payload: (0..<100_000).map { UInt8($0 % 251) })),
        ]
        for reply in replies {
            XCTAssertTrue(try router.send(to: identity, frames: MessageCodec.encode(reply)))
            let frames = try XCTUnwrap(try receive(dealer))
            XCTAssertEqual(try MessageCodec.decode(frames), reply)
        }

        try sendWhenConnected(dealer, MessageCodec.encode(.chunk(Samples.chunk)))
        let chunk = try XCTUnwrap(try receive(router))
        XCTAssertEqual(chunk[0], identity)
        XCTAssertEqual(try MessageCodec.decode(Array(chunk.dropFirst())), .chunk(Samples.chunk))
        XCTAssertNil(try router.receive(), "nothing else is waiting")
    }

    /// A CHUNK whose payload is written into a `ZMQPayload` and sent without a copy arrives as the very frames
    /// `MessageCodec.encode` gives for the same chunk, both ways (DEALER → ROUTER and ROUTER → DEALER as DATA).
    func testPayloadSentInPlaceArrivesAsTheEncodedChunk() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context)
        let bytes = (0..<300_000).map { UInt8(($0 * 7) % 253) }
        let chunk = FileChunk(sha256: Samples.sha, offset: 1_000, totalSize: 400_000, payload: bytes)

        func payload() throws -> ZMQPayload {
            let payload = try ZMQPayload(count: bytes.count)
            payload.withUnsafeMutableBytes { $0.copyBytes(from: bytes) }
            return payload
        }
        let head = MessageCodec.encodeChunkHead(
            sha256: chunk.sha256, offset: chunk.offset, totalSize: chunk.totalSize, length: bytes.count)
        let deadline = Date().addingTimeInterval(5)
        while try !dealer.send(head, then: try payload()) {
            guard Date() < deadline else { return XCTFail("DEALER never connected") }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let incoming = try XCTUnwrap(try receive(router))
        XCTAssertEqual(Array(incoming.dropFirst()), MessageCodec.encode(.chunk(chunk)))

        let dataHead = MessageCodec.encodeChunkHead(
            sha256: chunk.sha256, offset: chunk.offset, totalSize: chunk.totalSize,
            length: bytes.count, data: true)
        XCTAssertTrue(try router.send(to: incoming[0], head: dataHead, then: try payload()))
        XCTAssertEqual(try XCTUnwrap(try receive(dealer)), MessageCodec.encode(.data(chunk)))
    }

    /// With no peer to queue for, a payload-only send reports `EAGAIN` as false and the unsent payload is freed.
    func testPayloadWithNothingToQueueForIsNotSent() throws {
        let context = try ZMQContext()
        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.configureWorkerDealer()
        try dealer.connect("tcp://127.0.0.1:9")
        XCTAssertFalse(try dealer.send([], then: try ZMQPayload(count: 10)))
        XCTAssertFalse(
            try dealer.send(
                MessageCodec.encodeChunkHead(sha256: Samples.sha, offset: 0, totalSize: 10, length: 10),
                then: try ZMQPayload(count: 10)))
    }

    func testRouterMandatorySendToUnknownPeerThrowsHostUnreachable() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        try router.configureCoordinatorRouter(maxFrameBytes: limits.socketMaxFrameBytes)
        try router.bind("tcp://127.0.0.1:*")
        XCTAssertThrowsError(try router.send(to: [0, 1, 2, 3, 4], frames: MessageCodec.encode(Samples.all[17]))) {
            error in
            XCTAssertEqual((error as? ZMQError)?.code, EHOSTUNREACH, "\(error)")
        }
    }

    func testFrameAboveMaxMessageSizeIsNotDelivered() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context, maxFrameBytes: 1024)
        try sendWhenConnected(dealer, [ProtocolVersion.signature, [3], [UInt8](repeating: 0x41, count: 4096)])
        // libzmq drops the oversize frame and the connection; the DEALER reconnects and later messages arrive.
        var marker: UInt8 = 0
        let deadline = Date().addingTimeInterval(10)
        var received: [[UInt8]]?
        while received == nil, Date() < deadline {
            marker &+= 1
            _ = try dealer.send([ProtocolVersion.signature, [3], [marker]])
            received = try receive(router, timeoutMs: 200)
        }
        let message = try XCTUnwrap(received, "no message arrived after the oversize one")
        XCTAssertEqual(message.count, 4)
        XCTAssertEqual(message[3].count, 1, "the 4096-byte frame must not be delivered")
        while let extra = try receive(router, timeoutMs: 100) {
            XCTAssertLessThanOrEqual(extra[3].count, 1)
        }
    }

    func testDoorbellWakesAPoll() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        try router.bind("tcp://127.0.0.1:*")
        let doorbell = try Doorbell()
        let poller = ZMQPoller(sockets: [router], fds: [doorbell.fd])
        XCTAssertTrue(try poller.poll(timeoutMs: 0).isEmpty)

        let start = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { doorbell.ring() }
        let result = try poller.poll(timeoutMs: 10_000)
        let waited = Date().timeIntervalSince(start)
        XCTAssertEqual(result, PollResult(readableSockets: [], readableFDs: [0]))
        XCTAssertTrue(result.fdIsReadable(0))
        XCTAssertGreaterThanOrEqual(waited, 0.05)
        XCTAssertLessThan(waited, 5, "the ring should end the 10 s wait at once")

        doorbell.ring()
        XCTAssertEqual(doorbell.drain(), 2, "two rings before the drain")
        XCTAssertEqual(doorbell.drain(), 0)
        XCTAssertTrue(try poller.poll(timeoutMs: 0).isEmpty)
    }

    func testOptionsCloseAndPartLimit() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context)
        XCTAssertEqual(try router.intOption(ZMQOption.linger), 0)
        XCTAssertEqual(try router.intOption(ZMQOption.handshakeInterval), 5000)
        XCTAssertEqual(try router.intOption(ZMQOption.heartbeatInterval), 2000)
        XCTAssertEqual(try dealer.intOption(ZMQOption.immediate), 1)
        XCTAssertEqual(try dealer.intOption(ZMQOption.reconnectIntervalMax), 32000)

        try sendWhenConnected(dealer, (0..<20).map { [UInt8($0)] })
        let parts = try XCTUnwrap(try receive(router))
        XCTAssertEqual(parts.count, 16, "routing id + 15 parts kept, the rest discarded")
        XCTAssertEqual(parts[15], [14])

        XCTAssertThrowsError(try dealer.send([])) { XCTAssertEqual(($0 as? ZMQError)?.code, EINVAL) }
        dealer.close()
        dealer.close()
        XCTAssertFalse(dealer.isOpen)
        XCTAssertThrowsError(try dealer.receive()) { XCTAssertEqual(($0 as? ZMQError)?.code, ENOTSOCK) }
        XCTAssertThrowsError(try ZMQPoller(sockets: [dealer]).poll(timeoutMs: 0))
    }

    func testBindErrorNamesTheEndpoint() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .pair)
        XCTAssertThrowsError(try socket.bind("nonsense://x")) { error in
            XCTAssertTrue("\(error)".contains("zmq_bind(nonsense://x)"), "\(error)")
        }
    }
}
