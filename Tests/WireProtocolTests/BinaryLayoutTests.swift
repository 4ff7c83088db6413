// BinaryLayoutTests: big-endian writer and reader, bounds checks, and hex conversion.
import WireProtocol
import XCTest

/// Pins byte order and the reader's refusal to read past the end.
final class BinaryLayoutTests: XCTestCase {
    func testWriterIsBigEndian() {
        var writer = BinaryWriter()
        writer.write(UInt8(0xAB))
        writer.write(UInt32(0x0102_0304))
        writer.write(UInt64(0x0102_0304_0506_0708))
        writer.write(-2.0)
        writer.write(bytes: [9, 9])
        XCTAssertEqual(Hex.encode(writer.bytes), "ab" + "01020304" + "0102030405060708" + "c000000000000000" + "0909")
    }

    func testReaderReadsBackAndRefusesOverrun() throws {
        var writer = BinaryWriter()
        writer.write(UInt32.max)
        writer.write(UInt64(1) << 63)
        writer.write(Double.pi)
        var reader = BinaryReader(writer.bytes + [7])
        XCTAssertEqual(try reader.readUInt32(field: "a"), UInt32.max)
        XCTAssertEqual(try reader.readUInt64(field: "b"), UInt64(1) << 63)
        XCTAssertEqual(try reader.readDouble(field: "c"), Double.pi, accuracy: 0)
        XCTAssertEqual(reader.remaining, 1)
        XCTAssertThrowsError(try reader.readUInt32(field: "d")) { error in
            XCTAssertEqual(error as? BinaryReadError, BinaryReadError(field: "d", offset: 20, needed: 4, available: 1))
            XCTAssertEqual("\(error)", "d at byte 20 needs 4 bytes, 1 left")
        }
        XCTAssertEqual(reader.offset, 20, "a failed read consumes nothing")
        XCTAssertEqual(try reader.readBytes(1, field: "e"), [7])
        XCTAssertThrowsError(try reader.readBytes(-1, field: "f"))
    }

    func testHex() {
        XCTAssertEqual(Hex.encode([0x00, 0x7F, 0xFF]), "007fff")
        XCTAssertEqual(Hex.decode("007FfF"), [0x00, 0x7F, 0xFF])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertEqual(Hex.digestBytes(Samples.sha)?.count, 32)
        XCTAssertNil(Hex.digestBytes("00"))
        XCTAssertEqual(Hex.encode(Hex.digestBytes(Samples.sha) ?? []), Samples.sha)
        XCTAssertTrue(Hex.isDigest(Samples.sha))
        XCTAssertFalse(Hex.isDigest(Samples.sha.uppercased()))
        XCTAssertFalse(Hex.isDigest(String(Samples.sha.dropLast())))
    }

    func testFrameLimitsDefaults() {
        let limits = FrameLimits()
        XCTAssertEqual(limits.maxChunkBytes, 262_144)
        XCTAssertEqual(limits.maxFrameBytes, 262_144 + 65_536)
        XCTAssertEqual(limits.maxJSONBytes, 1_048_576)
        XCTAssertEqual(limits.socketMaxFrameBytes, 1_048_576)
    }
}
