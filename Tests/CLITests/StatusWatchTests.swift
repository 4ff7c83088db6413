// StatusWatchTests: `ablate status --connect --watch` rides out a coordinator restart instead of dying.
import Foundation
import TestSupport
import XCTest

final class StatusWatchTests: XCTestCase {
    func testWatchKeepsTheLastTableThroughARestartAndPicksUpTheNewCoordinator() throws {
        let directory = TemporaryDirectory()
        let sweep = try LocalCluster.tinySweep(in: directory, name: "watched")
        let cluster = LocalCluster(directory: directory, name: "watched")
        defer { cluster.stopAll() }
        try cluster.startCoordinator(sweep: sweep, arguments: ["--keep-serving"])
        let output = directory.file("watch.out")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: output))
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: AblateBinary.path)
        watch.arguments = ["status", "--connect", cluster.endpoint, "--watch"]
        watch.standardOutput = handle
        watch.standardError = handle
        try watch.run()
        defer { if watch.isRunning { kill(watch.processIdentifier, SIGKILL) } }
        func text() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        try cluster.wait("a first table", timeout: 30) { text().contains("sweep watched\n") }

        try cluster.killCoordinator()
        try cluster.wait("the watch to say the coordinator is silent", timeout: 30) {
            text().contains("no answer since")
        }
        XCTAssertTrue(watch.isRunning, "the watch outlives its coordinator:\n\(text())")

        try cluster.startCoordinator(sweep: sweep, arguments: ["--keep-serving"])
        try cluster.wait("a table from the restarted coordinator", timeout: 60) {
            // Each silent refresh prints the last table with the note under it (one write); a table after the
            // last note came from the new coordinator.
            (text().components(separatedBy: "no answer since").last ?? "").contains("sweep watched\n")
        }
        kill(watch.processIdentifier, SIGINT)
        watch.waitUntilExit()
        try handle.close()
        XCTAssertEqual(watch.terminationStatus, 0, text())
        // While silent it kept showing the last table above the note.
        let note = try XCTUnwrap(text().range(of: "no answer since"))
        XCTAssertTrue(
            text()[..<note.lowerBound].hasSuffix("0/2 done, 0 running, 0 failed; sweep ETA —; 0.00 worker-hours\n"),
            text())
    }
}
