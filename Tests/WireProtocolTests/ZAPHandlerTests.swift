// ZAPHandlerTests: a CURVE ROUTER behind the ZAP allowlist — listed keys talk, unlisted and plaintext clients do not.
import Foundation
import WireProtocol
import XCTest

/// A real CURVE handshake over loopback TCP between a ROUTER (CURVE server, ZAP handler) and DEALER clients.
final class ZAPHandlerTests: XCTestCase {
    private var context: ZMQContext?
    private var handler: ZAPHandler?
    private var router: ZMQSocket?
    private var server = CurveKeyPair(publicKey: "", secretKey: "")

    override func setUpWithError() throws {
        try XCTSkipUnless(ZeroMQ.has("curve"), "libzmq without CURVE")
        server = try CurveKeyPair.generate()
    }

    override func tearDown() {
        router?.close()
        handler?.stop()
    }

    /// Starts the handler (before binding, as required) and a CURVE ROUTER; returns its endpoint.
    private func startServer(allowing keys: Set<String>) throws -> String {
        let context = try ZMQContext()
        let handler = ZAPHandler(context: context, allowlist: keys)
        try handler.start()
        let router = try ZMQSocket(context, type: .router)
        try router.configureCoordinatorRouter(maxFrameBytes: FrameLimits().socketMaxFrameBytes)
        try router.configureCurveServer(secretKey: server.secretKey)
        try router.bind("tcp://127.0.0.1:*")
        self.context = context
        self.handler = handler
        self.router = router
        return try router.lastEndpoint
    }

    private func client(_ endpoint: String, keys: CurveKeyPair?) throws -> ZMQSocket {
        let dealer = try ZMQSocket(try XCTUnwrap(context), type: .dealer)
        try dealer.configureWorkerDealer()
        if let keys { try dealer.configureCurveClient(CurveClientKeys(pair: keys, serverPublicKey: server.publicKey)) }
        try dealer.connect(endpoint)
        return dealer
    }

    /// Keeps trying to send `text` for `seconds` and returns what the ROUTER received (nil: nothing arrived).
    private func exchange(_ dealer: ZMQSocket, _ text: String, seconds: Double) throws -> [[UInt8]]? {
        let router = try XCTUnwrap(router)
        let deadline = Date().addingTimeInterval(seconds)
        var sent = false
        while Date() < deadline {
            if !sent { sent = try dealer.send([Array(text.utf8)]) }
            _ = try ZMQPoller(sockets: [router]).poll(timeoutMs: 20)
            if let message = try router.receive() { return message }
        }
        return nil
    }

    func testListedKeyTalksUnlistedAndPlaintextClientsGetNothing() throws {
        let listed = try CurveKeyPair.generate()
        let unlisted = try CurveKeyPair.generate()
        let endpoint = try startServer(allowing: [listed.publicKey])

        let good = try client(endpoint, keys: listed)
        let received = try XCTUnwrap(try exchange(good, "hello", seconds: 5), "the listed key was not admitted")
        XCTAssertEqual(received.last.map { String(decoding: $0, as: UTF8.self) }, "hello")

        let bad = try client(endpoint, keys: unlisted)
        XCTAssertNil(try exchange(bad, "intruder", seconds: 1.5), "an unlisted key must deliver nothing")
        let plain = try client(endpoint, keys: nil)
        XCTAssertNil(try exchange(plain, "plaintext", seconds: 1.5), "a plaintext client must deliver nothing")

        let decisions = try XCTUnwrap(handler).takeDecisions()
        XCTAssertTrue(decisions.contains { $0.accepted && $0.publicKey == listed.publicKey })
        XCTAssertTrue(decisions.contains { !$0.accepted && $0.publicKey == unlisted.publicKey })
        XCTAssertFalse(decisions.contains { $0.accepted && $0.publicKey != listed.publicKey })
        XCTAssertTrue(try XCTUnwrap(handler).takeDecisions().isEmpty, "decisions are handed out once")
    }

    func testARemovedKeyIsLockedOutAtItsNextConnection() throws {
        let worker = try CurveKeyPair.generate()
        let endpoint = try startServer(allowing: [worker.publicKey])
        let first = try client(endpoint, keys: worker)
        XCTAssertNotNil(try exchange(first, "before", seconds: 5))

        try XCTUnwrap(handler).replaceAllowlist([])
        XCTAssertEqual(try XCTUnwrap(handler).allowlist, [])
        // The authenticated connection is not cut, but a new one with the same key is refused.
        XCTAssertNotNil(try exchange(first, "same connection", seconds: 5))
        first.close()
        let again = try client(endpoint, keys: worker)
        XCTAssertNil(try exchange(again, "after removal", seconds: 1.5))

        try XCTUnwrap(handler).replaceAllowlist([worker.publicKey])
        again.close()
        let readmitted = try client(endpoint, keys: worker)
        XCTAssertNotNil(try exchange(readmitted, "re-added", seconds: 5))
    }

    func testASecondHandlerOnTheSameContextCannotStart() throws {
        _ = try startServer(allowing: [])
        let second = ZAPHandler(context: try XCTUnwrap(context), allowlist: [])
        XCTAssertThrowsError(try second.start())
    }
}
