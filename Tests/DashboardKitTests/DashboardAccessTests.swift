// DashboardAccessTests: the dashboard's access rule — token by header or query, Host guard, methods — without sockets.
import DashboardKit
import XCTest

final class DashboardAccessTests: XCTestCase {
    let secret = String(repeating: "k3y", count: 12)

    func token() throws -> DashboardToken { try XCTUnwrap(DashboardToken(text: "  \(secret)\n")) }

    func testLoopbackWithoutTokenNeedsALoopbackHostHeader() {
        let access = DashboardAccess(bind: HTTPBindAddress(host: "127.0.0.1", port: 8080), token: nil)
        func decide(_ host: String?, method: String = "GET", loopback: Bool = true) -> DashboardAccess.Decision {
            access.decide(method: method, peerIsLoopback: loopback, host: host, authorization: nil, queryToken: nil)
        }
        XCTAssertEqual(decide("127.0.0.1:8080"), .allow)
        XCTAssertEqual(decide("localhost:8080"), .allow)
        XCTAssertEqual(decide("localhost"), .allow)
        XCTAssertEqual(decide("[::1]:8080"), .allow)
        XCTAssertEqual(decide("127.0.0.1:8080", method: "HEAD"), .allow)
        // DNS rebinding: a page whose name now points at 127.0.0.1 sends its own name.
        XCTAssertEqual(decide("evil.example:8080"), .misdirected)
        XCTAssertEqual(decide("127.0.0.1:9999"), .misdirected)
        XCTAssertEqual(decide("127.0.0.1:80x"), .misdirected)
        XCTAssertEqual(decide(nil), .misdirected)
        XCTAssertEqual(decide("[::1"), .misdirected)
        XCTAssertEqual(decide("127.0.0.1:8080", method: "POST"), .methodNotAllowed)
        XCTAssertEqual(decide("127.0.0.1:8080", method: "DELETE"), .methodNotAllowed)
        // Without a token there is no way in from another machine.
        XCTAssertEqual(decide("127.0.0.1:8080", loopback: false), .unauthorized)
    }

    func testTokenByHeaderOrQuery() throws {
        let access = DashboardAccess(bind: HTTPBindAddress(host: "0.0.0.0", port: 8080), token: try token())
        func decide(authorization: String? = nil, query: String? = nil, method: String = "GET")
            -> DashboardAccess.Decision
        {
            access.decide(
                method: method, peerIsLoopback: false, host: "10.1.2.3:8080", authorization: authorization,
                queryToken: query)
        }
        XCTAssertEqual(decide(), .unauthorized)
        XCTAssertEqual(decide(authorization: "Bearer \(secret)"), .allow)
        XCTAssertEqual(decide(authorization: "bearer \(secret)"), .allow)
        XCTAssertEqual(decide(query: secret), .allow)
        XCTAssertEqual(decide(authorization: "Bearer \(secret)x"), .unauthorized)
        XCTAssertEqual(decide(authorization: "Bearer \(secret.dropLast())"), .unauthorized)
        XCTAssertEqual(decide(authorization: "Basic \(secret)"), .unauthorized)
        XCTAssertEqual(decide(authorization: secret), .unauthorized)
        XCTAssertEqual(decide(query: ""), .unauthorized)
        XCTAssertEqual(decide(query: secret.uppercased()), .unauthorized)
        XCTAssertEqual(decide(authorization: "Bearer wrong", query: secret), .allow)
        XCTAssertEqual(decide(authorization: "Bearer \(secret)", method: "PUT"), .methodNotAllowed)
        // A loopback peer of a token-protected dashboard still passes the Host rule without the token.
        XCTAssertEqual(
            access.decide(
                method: "GET", peerIsLoopback: true, host: "127.0.0.1:8080", authorization: nil, queryToken: nil),
            .allow)
        XCTAssertEqual(
            access.decide(
                method: "GET", peerIsLoopback: true, host: "evil.example", authorization: nil, queryToken: nil),
            .misdirected)
    }

    func testTheBoundHostIsAnAllowedHostHeader() {
        let access = DashboardAccess(bind: HTTPBindAddress(host: "127.0.0.5", port: 7000), token: nil)
        XCTAssertTrue(access.hostIsAllowed("127.0.0.5:7000"))
        XCTAssertTrue(access.hostIsAllowed("LOCALHOST:7000"))
        XCTAssertFalse(access.hostIsAllowed("127.0.0.5:7001"))
        XCTAssertFalse(access.hostIsAllowed("192.168.1.2:7000"))
        XCTAssertFalse(access.hostIsAllowed("[::1]x"))
    }
}
