// AppendingFileTests: the append-only writer of streamed files, through its direct (O_DIRECT) and page-cache paths.
import AblateSupport
import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class AppendingFileTests: XCTestCase {
    private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = PCG64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    private func contents(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }

    /// Whether the filesystem of `directory` takes `O_DIRECT` at all (probed with a plain `open`).
    private func directSupported(in directory: TemporaryDirectory) -> Bool {
        let fd = open(directory.file("probe"), O_WRONLY | O_CREAT | AppendingFile.oDirect, 0o644)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Pieces of awkward sizes (1 byte, one short of a block, several staging buffers at once) appended with a
    /// two-block staging buffer rebuild the file exactly, directly and through the page cache; `size` counts the
    /// bytes still staged.
    func testPiecesOfAnySizeRebuildTheFileOnBothPaths() throws {
        let directory = TemporaryDirectory()
        let source = bytes(1 + 4095 + 4097 + 8192 + 10_000 + 3 + 20_000, seed: 11)
        for direct in [true, false] {
            let path = directory.file("direct-\(direct).bin")
            let file = try AppendingFile(path: path, keep: 0, direct: direct, stagingBytes: 8192)
            XCTAssertEqual(file.isDirect, direct && directSupported(in: directory), "direct: \(direct)")
            var offset = 0
            for piece in [1, 4095, 4097, 8192, 10_000, 3, 20_000] {
                try source[offset..<offset + piece].withUnsafeBytes { try file.append($0) }
                offset += piece
                XCTAssertEqual(file.size, Int64(offset))
            }
            try file.syncAndClose()
            XCTAssertEqual(contents(path), source, "direct: \(direct)")
        }
    }

    /// Reopened after `keep` bytes that end inside a block, the writer rewrites that block's head from the file and
    /// continues after it; bytes after `keep` are cut. A staging buffer never filled is written by `close` too, so
    /// a transfer broken before its first full buffer keeps what it had.
    func testKeepingAnUnalignedPrefixAndClosingWithBytesStaged() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("resumed.bin")
        let source = bytes(30_000, seed: 12)
        let first = try AppendingFile(path: path, keep: 0, stagingBytes: 16_384)
        try source[0..<5_000].withUnsafeBytes { try first.append($0) }
        first.close()
        XCTAssertEqual(contents(path), Array(source[0..<5_000]), "close writes the staged bytes")

        let second = try AppendingFile(path: path, keep: 5_000, stagingBytes: 8192)
        try source[5_000..<12_345].withUnsafeBytes { try second.append($0) }
        try second.syncAndClose()
        XCTAssertEqual(contents(path), Array(source[0..<12_345]))

        let third = try AppendingFile(path: path, keep: 10_001, stagingBytes: 8192)
        XCTAssertEqual(third.size, 10_001)
        try source[10_001...].withUnsafeBytes { try third.append($0) }
        try third.syncAndClose()
        XCTAssertEqual(contents(path), source, "the 2,344 bytes after keep were cut and rewritten")
    }

    /// Appending after `close` is an error that names the file.
    func testAppendAfterCloseNamesTheFile() throws {
        let directory = TemporaryDirectory()
        let file = try AppendingFile(path: directory.file("closed.bin"), keep: 0)
        file.close()
        XCTAssertThrowsError(try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try file.append($0) }) { error in
            XCTAssertTrue("\(error)".contains("closed.bin"), "\(error)")
        }
    }
}
