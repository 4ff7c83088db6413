// HeadlessChromium: runs the system's Chromium headless to dump a page's DOM or take a screenshot (tests skip without it).
import Foundation
import TestSupport
import XCTest

/// `chromium --headless` with a throw-away profile under `directory`.
struct HeadlessChromium {
    let executable: String
    let directory: TemporaryDirectory

    /// The browser, or an `XCTSkip` when none is installed.
    static func find(directory: TemporaryDirectory) throws -> HeadlessChromium {
        guard
            let executable = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw XCTSkip("Chromium is not installed (Debian package `chromium`); the browser checks are skipped")
        }
        return HeadlessChromium(executable: executable, directory: directory)
    }

    private func arguments(_ label: String, budgetMs: Int) -> [String] {
        [
            "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=\(directory.file("chromium-\(label)"))", "--virtual-time-budget=\(budgetMs)",
        ]
    }

    /// The DOM after the page's scripts ran for `budgetMs` of virtual time.
    func dumpDOM(_ url: String, budgetMs: Int = 3000) throws -> String {
        let result = try Subprocess.capture(
            "/usr/bin/timeout", ["60", executable] + arguments("dom", budgetMs: budgetMs) + ["--dump-dom", url])
        XCTAssertEqual(result.status, 0, "chromium --dump-dom: \(result.stderr.suffix(600))")
        return result.stdout
    }

    /// A PNG of `url` at `width`×`height`; returns its size in bytes (0 after a failure it reports).
    func screenshot(_ url: String, to png: String, width: Int = 1400, height: Int = 1000, budgetMs: Int = 3000) throws
        -> Int
    {
        let result = try Subprocess.capture(
            "/usr/bin/timeout",
            ["60", executable] + arguments("shot", budgetMs: budgetMs) + [
                "--window-size=\(width),\(height)", "--screenshot=\(png)", url,
            ])
        guard let bytes = FileManager.default.contents(atPath: png) else {
            XCTFail("no screenshot from \(executable) (status \(result.status)): \(result.stderr.suffix(600))")
            return 0
        }
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG file")
        return bytes.count
    }
}
