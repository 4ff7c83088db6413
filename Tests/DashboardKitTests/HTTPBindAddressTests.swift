// HTTPBindAddressTests: `--http HOST:PORT` parsing and the loopback test, without sockets.
import DashboardKit
import XCTest

final class HTTPBindAddressTests: XCTestCase {
    func testParsesHostsAndPorts() throws {
        XCTAssertEqual(HTTPBindAddress(parsing: "127.0.0.1:8080"), HTTPBindAddress(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(HTTPBindAddress(parsing: "localhost:1"), HTTPBindAddress(host: "localhost", port: 1))
        XCTAssertEqual(HTTPBindAddress(parsing: "[::1]:65535"), HTTPBindAddress(host: "::1", port: 65535))
        XCTAssertEqual(HTTPBindAddress(parsing: "0.0.0.0:80"), HTTPBindAddress(host: "0.0.0.0", port: 80))
        XCTAssertEqual(HTTPBindAddress(parsing: "lab-3.example:9000")?.host, "lab-3.example")
        XCTAssertEqual(HTTPBindAddress(parsing: "[::1]:8080")?.description, "[::1]:8080")
        XCTAssertEqual(HTTPBindAddress(parsing: "127.0.0.1:8080")?.description, "127.0.0.1:8080")
    }

    func testRefusesMalformedAddresses() {
        for text in [
            "", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80a",
            "::1:8080", "[::1]8080", "[]:80", "[abc]:80", "host name:80", "http://127.0.0.1:80", "127.0.0.1:-1",
            "127.0.0.1:０８０",
        ] {
            XCTAssertNil(HTTPBindAddress(parsing: text), text)
        }
    }

    func testLoopbackHosts() {
        for host in [
            "127.0.0.1", "127.1.2.3", "127.255.255.255", "localhost", "LOCALHOST", "::1", "0:0:0:0:0:0:0:1",
            "::ffff:127.0.0.1",
        ] {
            XCTAssertTrue(HTTPBindAddress.isLoopback(host: host), host)
        }
        for host in [
            "0.0.0.0", "128.0.0.1", "10.0.0.1", "::", "::2", "example.com", "localhost.example.com",
            "127.0.0.256", "127.0.0", "::ffff:10.0.0.1", "fe80::1",
        ] {
            XCTAssertFalse(HTTPBindAddress.isLoopback(host: host), host)
        }
        XCTAssertTrue(HTTPBindAddress(host: "127.0.0.1", port: 1).isLoopback)
        XCTAssertFalse(HTTPBindAddress(host: "0.0.0.0", port: 1).isLoopback)
    }
}
