// HDF5RoundTripTests: every element type, whole arrays and row ranges, attributes, in-memory images.
import Foundation
import HDF5Kit
import TestSupport
import Testing

@Suite("HDF5 round trips")
struct HDF5RoundTripTests {
    /// Writes a 2-D array of each element type, reads it back whole and by row ranges.
    @Test func everyElementTypeRoundTrips() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("types.h5")
        let rows = 7
        let cols = 3
        let floats = (0..<(rows * cols)).map { Float($0) * 0.25 - 2 }
        let doubles = (0..<(rows * cols)).map { Double($0) * 1e-3 + .pi }
        let bytes = (0..<(rows * cols)).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let shorts = (0..<(rows * cols)).map { UInt16(truncatingIfNeeded: $0 * 3001) }
        let ints32 = (0..<(rows * cols)).map { Int32($0) * -77_777 }
        let ints64 = (0..<(rows * cols)).map { Int64($0) * -9_000_000_000_000 }
        do {
            let file = try H5File.create(path)
            let group = try file.createGroup("g")
            try group.writeDataset("f32", floats, shape: [rows, cols])
            try group.writeDataset(
                "f64", doubles, shape: [rows, cols], storage: .chunked(rows: 2, deflate: 4, shuffle: true))
            try group.writeDataset("u8", bytes, shape: [rows, cols])
            try group.writeDataset("u16", shorts, shape: [rows, cols], storage: .chunked(rows: 3))
            try group.writeDataset("i32", ints32, shape: [rows, cols])
            try group.writeDataset("i64", ints64, shape: [rows, cols])
            try file.close()
        }
        let file = try H5File.open(path)
        let group = try file.group("g")
        #expect(try group.memberNames() == ["f32", "f64", "i32", "i64", "u16", "u8"])
        #expect(try group.dataset("f32").read() == floats)
        #expect(try group.dataset("f64").read() == doubles)
        #expect(try group.dataset("u8").read() == bytes)
        #expect(try group.dataset("u16").read() == shorts)
        #expect(try group.dataset("i32").read() == ints32)
        #expect(try group.dataset("i64").read() == ints64)
        let u16 = try group.dataset("u16")
        #expect(u16.shape == [rows, cols])
        #expect(u16.elementType == .uint16)
        #expect(try u16.read(rows: 2..<5) == Array(shorts[6..<15]))
        #expect(try u16.read(rows: 4..<4, as: UInt16.self).isEmpty)
        #expect(try group.dataset("f64").read(rows: 6..<7) == Array(doubles[18..<21]))
    }

    /// Writes rows piecewise into a dataset and reads the assembled whole.
    @Test func rowRangeWrites() throws {
        let dir = TemporaryDirectory()
        let file = try H5File.create(dir.file("rows.h5"))
        let dataset = try file.createDataset("x", type: .float32, shape: [5, 2])
        try dataset.write([Float](repeating: 0, count: 10))
        try dataset.write([1, 2, 3, 4] as [Float], rowsFrom: 3)
        try dataset.write([9, 8] as [Float], rowsFrom: 0)
        #expect(try dataset.read(as: Float.self) == [9, 8, 0, 0, 0, 0, 1, 2, 3, 4])
        #expect(throws: HDF5Error.self) { try dataset.write([1, 2, 3, 4] as [Float], rowsFrom: 4) }
        #expect(throws: HDF5Error.self) { try dataset.write([1, 2, 3] as [Float], rowsFrom: 0) }
        try file.close()
    }

    /// String (UTF-8), integer, real and array attributes round-trip; rewriting replaces.
    @Test func attributesRoundTrip() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("attrs.h5")
        do {
            let file = try H5File.create(path)
            try file.setAttribute("format", "ablate-test")
            try file.setAttribute("unicode", "Δ macro-F1 — ≥ 1 pp ✓")
            try file.setAttribute("version", 3)
            try file.setAttribute("version", 4)  // replaces
            try file.setAttribute("fraction", 0.2)
            try file.setAttribute("counts", [1, -2, 3] as [Int64])
            try file.setAttribute("weights", [0.5, 1.5] as [Double])
            let d = try file.writeDataset("d", [1, 2] as [UInt8], shape: [2])
            try d.setAttribute("layout", "N")
            try file.close()
        }
        let file = try H5File.open(path)
        #expect(try file.attributeNames() == ["counts", "format", "fraction", "unicode", "version", "weights"])
        #expect(try file.stringAttribute("format") == "ablate-test")
        #expect(try file.stringAttribute("unicode") == "Δ macro-F1 — ≥ 1 pp ✓")
        #expect(try file.integerAttribute("version") == 4)
        #expect(try file.realAttribute("fraction") == 0.2)
        #expect(try file.attribute("counts") == .integers([1, -2, 3]))
        #expect(try file.attribute("weights") == .reals([0.5, 1.5]))
        #expect(try file.attribute("absent") == nil)
        #expect(try file.dataset("d").stringAttribute("layout") == "N")
        let error = try #require(throws: HDF5Error.self) { try file.stringAttribute("version") }
        #expect(error.kind == .typeMismatch)
        #expect(error.description.contains(path))
    }

    /// A file built in memory yields valid HDF5 bytes that open from disk and from the image.
    @Test func inMemoryImage() throws {
        let values = (0..<1000).map { Float($0).squareRoot() }
        let bytes: [UInt8]
        do {
            let file = try H5File.createInMemory()
            try file.setAttribute("format", "image-test")
            try file.createGroup("model").writeDataset("w", values, shape: [10, 100])
            bytes = try file.imageBytes()
            try file.close()
        }
        #expect(bytes.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))
        let dir = TemporaryDirectory()
        dir.write("image.h5", bytes: bytes)
        let fromDisk = try H5File.open(dir.file("image.h5"))
        #expect(try fromDisk.stringAttribute("format") == "image-test")
        #expect(try fromDisk.dataset("model/w").read() == values)
        let fromImage = try H5File.open(image: bytes)
        #expect(try fromImage.dataset("model/w").read(rows: 9..<10) == Array(values[900..<1000]))
    }

    /// The async entry runs HDF5 work off the cooperative pool and returns its result.
    @Test func asyncExecutor() async throws {
        let version = try await HDF5Executor.shared.run { HDF5Executor.libraryVersion }
        #expect(version.hasPrefix("1."))
    }
}
