// HandshakeMonitorTests: a CURVE ROUTER reports every refused handshake — plaintext, wrong server key, unlisted key.
import Foundation
import WireProtocol
import XCTest

/// Real handshakes over loopback TCP against a CURVE ROUTER with a ZAP handler and a `HandshakeMonitor`.
final class HandshakeMonitorTests: XCTestCase {
    func testPlaintextWrongServerKeyAndUnlistedClientsAreEachReported() throws {
        try XCTSkipUnless(ZeroMQ.has("curve"), "libzmq without CURVE")
        let server = try CurveKeyPair.generate()
        let listed = try CurveKeyPair.generate()
        let context = try ZMQContext()
        let handler = ZAPHandler(context: context, allowlist: [listed.publicKey])
        try handler.start()
        defer { handler.stop() }
        let router = try ZMQSocket(context, type: .router)
        defer { router.close() }
        let monitor = try HandshakeMonitor(watching: router, context: context)
        defer { monitor.close() }
        try router.configureCoordinatorRouter(maxFrameBytes: FrameLimits().socketMaxFrameBytes)
        try router.configureCurveServer(secretKey: server.secretKey)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint

        func client(_ keys: CurveClientKeys?) throws -> ZMQSocket {
            let dealer = try ZMQSocket(context, type: .dealer)
            try dealer.configureWorkerDealer()
            if let keys { try dealer.configureCurveClient(keys) }
            try dealer.connect(endpoint)
            return dealer
        }

        func failures(until kind: HandshakeFailure.Kind) throws -> [HandshakeFailure] {
            var seen: [HandshakeFailure] = []
            let deadline = Date().addingTimeInterval(8)
            while Date() < deadline, !seen.contains(where: { $0.kind == kind }) {
                _ = try ZMQPoller(sockets: [monitor.socket]).poll(timeoutMs: 50)
                seen += try monitor.drain()
            }
            return seen
        }

        let plaintext = try client(nil)
        let plain = try failures(until: .mechanism)
        XCTAssertTrue(plain.contains { $0.kind == .mechanism }, "\(plain)")
        plaintext.close()

        let otherServer = try CurveKeyPair.generate()
        let wrongServer = try client(CurveClientKeys(pair: listed, serverPublicKey: otherServer.publicKey))
        let crypto = try failures(until: .cryptographic)
        XCTAssertTrue(crypto.contains { $0.kind == .cryptographic }, "\(crypto)")
        XCTAssertTrue(
            crypto.first { $0.kind == .cryptographic }?.description.contains("another server public key") ?? false)
        wrongServer.close()

        let unlisted = try client(CurveClientKeys(pair: try CurveKeyPair.generate(), serverPublicKey: server.publicKey))
        let refused = try failures(until: .authentication)
        XCTAssertTrue(refused.contains { $0.kind == .authentication }, "\(refused)")
        XCTAssertEqual(refused.first { $0.kind == .authentication }?.counterName, "handshake_refused_authentication")
        unlisted.close()

        // An authorized client still gets through with the monitor on.
        let good = try client(CurveClientKeys(pair: listed, serverPublicKey: server.publicKey))
        defer { good.close() }
        let deadline = Date().addingTimeInterval(5)
        var received: [[UInt8]]?
        var sent = false
        while Date() < deadline, received == nil {
            if !sent { sent = try good.send([Array("hi".utf8)]) }
            _ = try ZMQPoller(sockets: [router]).poll(timeoutMs: 20)
            received = try router.receive()
        }
        XCTAssertNotNil(received)
    }
}
