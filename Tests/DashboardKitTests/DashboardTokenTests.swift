// DashboardTokenTests: the token file's rules (trimmed, at least 32 characters) and the constant-time comparison.
import DashboardKit
import TestSupport
import XCTest

final class DashboardTokenTests: XCTestCase {
    func testTokenText() {
        let secret = String(repeating: "a", count: 32)
        XCTAssertEqual(DashboardToken(text: "\n \(secret)\t\n")?.value, secret)
        XCTAssertNil(DashboardToken(text: String(repeating: "a", count: 31)))
        XCTAssertNil(DashboardToken(text: "   "))
        XCTAssertNil(DashboardToken(text: secret + " " + secret))
    }

    func testComparison() throws {
        let token = try XCTUnwrap(DashboardToken(text: String(repeating: "ab", count: 20)))
        XCTAssertTrue(token.matches(String(repeating: "ab", count: 20)))
        XCTAssertFalse(token.matches(String(repeating: "ab", count: 19)))
        XCTAssertFalse(token.matches(String(repeating: "ab", count: 20) + "\0"))
        XCTAssertFalse(token.matches(String(repeating: "ab", count: 19) + "ac"))
        XCTAssertFalse(token.matches(""))
    }

    func testTokenFileErrorsAreOneLine() throws {
        let directory = TemporaryDirectory()
        directory.write("short", text: "abc\n")
        directory.write("good", text: String(repeating: "x", count: 40) + "\n")
        XCTAssertEqual(try DashboardToken.read(path: directory.file("good")).value, String(repeating: "x", count: 40))
        for (name, needle) in [("short", "at least 32 characters"), ("missing", "cannot read the file")] {
            do {
                _ = try DashboardToken.read(path: directory.file(name))
                XCTFail("\(name) accepted")
            } catch {
                XCTAssertTrue(error.message.hasPrefix("--http-token-file \(directory.file(name)): "), error.message)
                XCTAssertTrue(error.message.contains(needle), error.message)
                XCTAssertFalse(error.message.contains("\n"))
            }
        }
    }
}
