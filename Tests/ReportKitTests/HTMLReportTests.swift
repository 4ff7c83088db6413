// HTMLReportTests: the HTML report is self-contained, carries its four plots, and renders to a non-blank page in Chromium.
import Foundation
import ReportKit
import TestSupport
import XCTest

final class HTMLReportTests: XCTestCase {
    func testSelfContainedWithPlotsAndTables() throws {
        let fixture = try StateDirectoryFixture.make()
        let html = HTMLReport.render(try ReportBuilder.build(stateDirectory: fixture.state))
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 4, "four figures")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains(" src="))
        XCTAssertFalse(html.contains(" href="))
        XCTAssertTrue(html.contains("<polygon"), "seed band of the per-epoch plot")
        XCTAssertTrue(html.contains("stroke-dasharray"), "threshold lines of the forest plot")
        XCTAssertTrue(html.contains("<table>"))
        XCTAssertTrue(html.contains("<strong>better</strong>"))
    }

    /// Renders the report and an empty page with headless Chromium at the same size and compares the PNG files:
    /// a blank page compresses to a few kilobytes, the report's plots and tables to many times that.
    func testChromiumScreenshotIsNotBlank() throws {
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw XCTSkip("Chromium is not installed (Debian package `chromium`); the screenshot check is skipped")
        }
        let fixture = try StateDirectoryFixture.make()
        let html = HTMLReport.render(try ReportBuilder.build(stateDirectory: fixture.state))
        fixture.directory.write("report.html", text: html)
        fixture.directory.write("blank.html", text: "<!DOCTYPE html><html><body></body></html>")
        func shot(_ page: String) throws -> Int {
            let png = fixture.directory.file("\(page).png")
            let result = try Subprocess.capture(
                chromium,
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600",
                    "--user-data-dir=\(fixture.directory.file("chromium-\(page)"))", "--screenshot=\(png)",
                    "file://\(fixture.directory.file("\(page).html"))",
                ])
            let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? nil
            guard let size else {
                XCTFail("no screenshot from \(chromium) (status \(result.status)): \(result.stderr.suffix(400))")
                return 0
            }
            let bytes = try XCTUnwrap(FileManager.default.contents(atPath: png))
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG file")
            return size
        }
        let blank = try shot("blank")
        let report = try shot("report")
        print("screenshot sizes: blank \(blank) B, report \(report) B")
        XCTAssertGreaterThan(report, 5 * max(blank, 1), "the report's screenshot looks blank")
    }
}
