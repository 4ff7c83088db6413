// HDF5ErrorTests: failures become typed errors naming the file and the object.
import Foundation
import HDF5Kit
import TestSupport
import Testing

@Suite("HDF5 errors")
struct HDF5ErrorTests {
    @Test func missingFileNamesThePath() throws {
        let error = try #require(throws: HDF5Error.self) { try H5File.open("/nonexistent/dir/x.h5") }
        #expect(error.kind == .fileNotFound)
        #expect(error.description.contains("/nonexistent/dir/x.h5"))
    }

    @Test func foreignFileIsNotHDF5() throws {
        let dir = TemporaryDirectory()
        dir.write("text.h5", text: "this is not an HDF5 file\n")
        let error = try #require(throws: HDF5Error.self) { try H5File.open(dir.file("text.h5")) }
        #expect(error.kind == .notHDF5)
        #expect(error.description.contains("text.h5"))
    }

    @Test func truncatedFileIsRejected() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("whole.h5")
        do {
            let file = try H5File.create(path)
            try file.writeDataset("x", [Float](repeating: 1, count: 4096), shape: [4096])
            try file.close()
        }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        dir.write("cut.h5", bytes: Array(bytes.prefix(bytes.count / 3)))
        #expect(throws: HDF5Error.self) {
            let file = try H5File.open(dir.file("cut.h5"))
            _ = try file.dataset("x").read(as: Float.self)
        }
    }

    @Test func missingObjectsAndTypeMismatch() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("objects.h5")
        let file = try H5File.create(path)
        try file.createGroup("train").writeDataset("labels", [1, 2, 3] as [UInt8], shape: [3])
        let missing = try #require(throws: HDF5Error.self) { try file.dataset("train/blocks") }
        #expect(missing.kind == .missingObject)
        #expect(missing.description.contains("/train/blocks"))
        #expect(missing.description.contains(path))
        let group = try #require(throws: HDF5Error.self) { try file.group("val") }
        #expect(group.kind == .missingObject)
        let labels = try file.dataset("train/labels")
        let mismatch = try #require(throws: HDF5Error.self) { try labels.read(as: Float.self) }
        #expect(mismatch.kind == .typeMismatch)
        #expect(mismatch.description.contains("/train/labels"))
        let range = try #require(throws: HDF5Error.self) { try labels.read(rows: 2..<5, as: UInt8.self) }
        #expect(range.kind == .shapeMismatch)
        try file.close()
    }

    @Test func createRefusesAnExistingFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("exists.h5")
        try H5File.create(path).close()
        #expect(throws: HDF5Error.self) { try H5File.create(path) }
        try H5File.create(path, mode: .truncate).close()
    }

    @Test func badImageBytes() throws {
        #expect(throws: HDF5Error.self) { try H5File.open(image: Array("not hdf5".utf8)) }
    }
}
