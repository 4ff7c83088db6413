// HTMLReportTests: the HTML report is self-contained, carries its figures, renders non-blank and never overflows sideways.
import Foundation
import ReportKit
import TestSupport
import XCTest

final class HTMLReportTests: XCTestCase {
    func testSelfContainedWithPlotsAndTables() throws {
        let fixture = try StateDirectoryFixture.make()
        let html = HTMLReport.render(try ReportBuilder.build(stateDirectory: fixture.state))
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 5, "five figures")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains(" src="))
        XCTAssertFalse(html.contains(" href="))
        XCTAssertTrue(html.contains("<polyline"), "learning curves")
        XCTAssertTrue(html.contains("<figcaption>"))
        XCTAssertTrue(html.contains("stroke-dasharray"), "threshold lines of the forest plot")
        XCTAssertTrue(html.contains("<div class=\"table\"><table>"), "tables scroll inside their box")
        XCTAssertTrue(html.contains("<strong>better</strong>"))
    }

    /// The installed Chromium, nil when there is none.
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// The page's `scrollWidth` and `clientWidth` in a Chromium window `width` pixels wide: a copy of the page with
    /// a script that writes both into the DOM, which `--dump-dom` prints.
    static func widths(of html: String, width: Int, chromium: String, in directory: TemporaryDirectory) throws -> (
        scroll: Int, client: Int
    ) {
        let probe =
            "<script>document.body.setAttribute('data-widths',"
            + "document.documentElement.scrollWidth+'/'+document.documentElement.clientWidth)</script></body>"
        let name = "probe-\(width)-\(UInt32.random(in: 0...UInt32.max))"
        directory.write("\(name).html", text: html.replacingOccurrences(of: "</body>", with: probe))
        let result = try Subprocess.capture(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=\(width),2000",
                "--virtual-time-budget=2000", "--user-data-dir=\(directory.file("chromium-\(name)"))", "--dump-dom",
                "file://\(directory.file("\(name).html"))",
            ])
        guard let range = result.stdout.range(of: #"data-widths="(\d+)/(\d+)""#, options: .regularExpression) else {
            XCTFail("no widths from \(chromium) (status \(result.status)): \(result.stderr.suffix(400))")
            return (0, 0)
        }
        let numbers = result.stdout[range].dropFirst("data-widths=\"".count).dropLast().split(separator: "/")
        return (Int(numbers[0]) ?? 0, Int(numbers[1]) ?? 0)
    }

    /// At 900 and 1,400 px the page never scrolls sideways (tables scroll in their box, figures shrink); the probe
    /// itself sees the overflow of a page wider than its window.
    func testNoHorizontalOverflowAt900And1400() throws {
        guard let chromium = Self.chromium else {
            throw XCTSkip("Chromium is not installed (Debian package `chromium`); the overflow check is skipped")
        }
        let fixture = try StateDirectoryFixture.make()
        let html = HTMLReport.render(try ReportBuilder.build(stateDirectory: fixture.state))
        let wide = "<!DOCTYPE html><html><body><div style=\"width:3000px\">wide</div></body></html>"
        let control = try Self.widths(of: wide, width: 900, chromium: chromium, in: fixture.directory)
        XCTAssertGreaterThan(control.scroll, control.client, "the probe sees an overflowing page")
        for width in [900, 1400] {
            let measured = try Self.widths(of: html, width: width, chromium: chromium, in: fixture.directory)
            print("width \(width): scrollWidth \(measured.scroll), clientWidth \(measured.client)")
            XCTAssertGreaterThan(measured.client, 0)
            XCTAssertLessThanOrEqual(measured.scroll, measured.client, "horizontal overflow at \(width) px")
        }
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
