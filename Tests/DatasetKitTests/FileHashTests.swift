// FileHashTests: the streamed SHA-256 of a file equals the digest of its bytes, across the 1 MiB reads' boundaries.
import AblateSupport
import DatasetKit
import Foundation
import TestSupport
import Testing

@Suite("File SHA-256")
struct FileHashTests {
    @Test func streamedDigestEqualsTheBytesDigest() throws {
        let directory = TemporaryDirectory("filehash")
        for size in [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12_345] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
            let path = directory.file("f\(size)")
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            #expect(try SHA256Hex.ofFile(path) == SHA256Hex.of(bytes), "size \(size)")
        }
        #expect(throws: FileWriteError.self) { try SHA256Hex.ofFile(directory.file("missing")) }
    }
}
