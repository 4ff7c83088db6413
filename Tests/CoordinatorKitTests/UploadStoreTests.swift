// UploadStoreTests: uploads append in order, resume from the part's length, verify before rename, refuse what cannot fit.
import AblateSupport
import Foundation
import TestSupport
import WireProtocol
import XCTest

@testable import CoordinatorKit

final class UploadStoreTests: XCTestCase {
    private func bytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    private func piece(_ data: [UInt8], _ sha: String, from: Int, length: Int) -> Upload {
        let end = min(data.count, from + length)
        return Upload(sha256: sha, offset: Int64(from), totalSize: Int64(data.count), payload: Array(data[from..<end]))
    }

    func testAnUploadInPiecesCompletesVerifiedAndReadOnly() throws {
        let lab = TemporaryDirectory()
        let store = UploadStore(labDirectory: lab.path)
        let data = bytes(1000)
        let sha = SHA256Hex.of(data)
        XCTAssertFalse(store.has(sha, size: 1000))
        let probe = store.receive(Upload(sha256: sha, offset: 0, totalSize: 1000, payload: [UInt8]()))
        XCTAssertEqual(probe, UploadAck(sha256: sha, nextOffset: 0, status: .more))
        XCTAssertEqual(store.receive(piece(data, sha, from: 0, length: 400)).nextOffset, 400)
        // Not where the part ends: nothing written, told where to go on.
        XCTAssertEqual(
            store.receive(piece(data, sha, from: 800, length: 200)),
            UploadAck(sha256: sha, nextOffset: 400, status: .more))
        XCTAssertEqual(store.receive(piece(data, sha, from: 0, length: 400)).nextOffset, 400)
        XCTAssertEqual(store.receive(piece(data, sha, from: 400, length: 400)).nextOffset, 800)
        XCTAssertFalse(store.has(sha, size: 1000), "a part is not a complete upload")
        let done = store.receive(piece(data, sha, from: 800, length: 200))
        XCTAssertEqual(done, UploadAck(sha256: sha, nextOffset: 1000, status: .complete))
        XCTAssertTrue(store.has(sha, size: 1000))
        XCTAssertEqual(FileManager.default.contents(atPath: store.path(of: sha)).map { [UInt8]($0) }, data)
        let mode = try XCTUnwrap(
            FileManager.default.attributesOfItem(atPath: store.path(of: sha))[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o444)
        XCTAssertEqual(lab.entries("uploads/incoming"), [])
        // Again: complete at once.
        XCTAssertEqual(
            store.receive(Upload(sha256: sha, offset: 0, totalSize: 1000, payload: [UInt8]())).status, .complete)
    }

    func testARestartedStoreResumesFromThePartAndChecksTheWholeFile() {
        let lab = TemporaryDirectory()
        let data = bytes(3000, seed: 7)
        let sha = SHA256Hex.of(data)
        XCTAssertEqual(
            UploadStore(labDirectory: lab.path).receive(piece(data, sha, from: 0, length: 1200)).nextOffset, 1200)
        // A new process (no running hash): the part's length is where the client goes on.
        let store = UploadStore(labDirectory: lab.path)
        XCTAssertEqual(
            store.receive(Upload(sha256: sha, offset: 0, totalSize: 3000, payload: [UInt8]())),
            UploadAck(sha256: sha, nextOffset: 1200, status: .more))
        XCTAssertEqual(store.receive(piece(data, sha, from: 1200, length: 1800)).status, .complete)
        XCTAssertTrue(store.has(sha, size: 3000))
    }

    func testAMismatchDropsThePart() {
        let lab = TemporaryDirectory()
        let store = UploadStore(labDirectory: lab.path)
        let data = bytes(500)
        let claimed = SHA256Hex.of(bytes(500, seed: 9))
        XCTAssertEqual(store.receive(piece(data, claimed, from: 0, length: 300)).status, .more)
        XCTAssertEqual(
            store.receive(piece(data, claimed, from: 300, length: 200)),
            UploadAck(sha256: claimed, nextOffset: 0, status: .hashMismatch))
        XCTAssertFalse(store.has(claimed, size: 500))
        XCTAssertEqual(lab.entries("uploads/incoming"), [])
        XCTAssertEqual(lab.entries("uploads"), ["incoming"])
    }

    func testAnEmptyFileAndRefusals() {
        let lab = TemporaryDirectory()
        let empty = SHA256Hex.of([UInt8]())
        let store = UploadStore(labDirectory: lab.path, maximumBytes: 1000, reserveBytes: 100, freeSpace: { _ in 1050 })
        XCTAssertEqual(
            store.receive(Upload(sha256: empty, offset: 0, totalSize: 0, payload: [UInt8]())).status, .complete)
        XCTAssertTrue(store.has(empty, size: 0))
        let tooLarge = store.receive(Upload(sha256: Self.sha(1), offset: 0, totalSize: 1001, payload: [1]))
        XCTAssertEqual(tooLarge.status, .refused)
        XCTAssertTrue(tooLarge.reason?.contains("more than the largest upload") ?? false, "\(tooLarge)")
        let full = store.receive(Upload(sha256: Self.sha(2), offset: 0, totalSize: 1000, payload: [1]))
        XCTAssertEqual(full.status, .refused)
        XCTAssertTrue(full.reason?.contains("not enough space") ?? false, "\(full)")
        XCTAssertEqual(store.path(of: "../etc/passwd"), store.directory + "/.invalid")
    }

    private static func sha(_ digit: Int) -> String { String(repeating: String(digit), count: 64) }
}
