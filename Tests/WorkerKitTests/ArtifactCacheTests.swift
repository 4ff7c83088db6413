// ArtifactCacheTests: one cache shared by a host's workers — parts per process, abandoned parts removed at open.
import Foundation
import TestSupport
import TransferKit
import WireProtocol
import XCTest

@testable import TransferKit

final class ArtifactCacheTests: XCTestCase {
    func testPartsAreNamedPerProcessAndAbandonedOnesGoAtOpen() throws {
        let directory = TemporaryDirectory()
        let sha = String(repeating: "a", count: 64)
        // A process that surely is not running: a child that has already exited.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let gone = child.processIdentifier
        let live = ProcessInfo.processInfo.processIdentifier == 1 ? 2 : 1  // init: always running
        directory.write("artifacts/\(sha).part-\(gone)", text: "dead download")
        directory.write("artifacts/\(sha).part-\(live)", text: "another worker's download in progress")
        directory.write("artifacts/\(sha).part", text: "from before parts were per process")
        directory.write("artifacts/\(sha)", text: "complete")
        let cache = try ArtifactCache(directory: directory.file("artifacts"))
        XCTAssertEqual(directory.entries("artifacts"), [sha, "\(sha).part-\(live)"])
        XCTAssertEqual(cache.partPath(sha), directory.file("artifacts/\(sha).part-\(getpid())"))
        XCTAssertTrue(cache.has(ArtifactRef(name: "x", sha256: sha, size: 8)))
        XCTAssertFalse(cache.has(ArtifactRef(name: "x", sha256: sha, size: 9)), "a size that differs is not held")
    }
}
