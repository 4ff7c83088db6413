// PrintableTextTests: a peer's text printed on one line cannot forge lines, drive a terminal or reorder text.
import WireProtocol
import XCTest

final class PrintableTextTests: XCTestCase {
    func testLineBreaksControlsAndBidiCharactersAreNeutralised() {
        let hostile =
            "line one\nFAKE: 9/9 done, 0 failed\r\n\u{1B}[31mRED\u{1B}[0m\u{1B}]0;pwned\u{07} \u{202E}evil\tend"
        let shown = PrintableText.oneLine(hostile)
        XCTAssertEqual(
            shown,
            "line one | FAKE: 9/9 done, 0 failed | \\u{1B}[31mRED\\u{1B}[0m\\u{1B}]0;pwned\\u{7} \\u{202E}evil end")
        XCTAssertFalse(
            shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" })
    }

    func testOrdinaryTextIsKeptAndLongTextIsCut() {
        XCTAssertEqual(
            PrintableText.oneLine("the command ended with exit status 4; last output:\nbye\n"),
            "the command ended with exit status 4; last output: | bye")
        XCTAssertEqual(PrintableText.oneLine("Δ é 日本"), "Δ é 日本")
        XCTAssertEqual(
            PrintableText.oneLine(String(repeating: "x", count: 50), limit: 10), String(repeating: "x", count: 10) + "…"
        )
    }
}
