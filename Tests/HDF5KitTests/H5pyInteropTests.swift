// H5pyInteropTests: files written by Ablate read correctly in h5py, the ecosystem's reader (skipped without h5py).
import Foundation
import HDF5Kit
import TestSupport
import Testing

@Suite("h5py interoperability")
struct H5pyInteropTests {
    static let h5pyAvailable = Python.canImport("h5py")

    @Test(
        .enabled(
            if: h5pyAvailable, "SKIPPED: python3 cannot import h5py; install it (pip install h5py) to run this check"))
    func h5pyReadsAblateFiles() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("interop.h5")
        do {
            let file = try H5File.create(path)
            try file.setAttribute("format", "ablate-interop")
            try file.setAttribute("format_version", 1)
            try file.setAttribute("note", "ünïcödé")
            try file.setAttribute("ratio", 0.25)
            let g = try file.createGroup("model")
            try g.writeDataset("backbone.conv1.weight", (0..<12).map { Float($0) / 4 }, shape: [2, 1, 2, 3])
            try g.writeDataset("blocks", (0..<8).map { UInt16($0 * 100) }, shape: [2, 2, 2])
            try g.writeDataset("num_batches_tracked", [Int64(7)], shape: [1])
            try g.writeDataset(
                "labels", [0, 9, 3] as [UInt8], shape: [3], storage: .chunked(rows: 2, deflate: 1, shuffle: true))
            try file.close()
        }
        let script = """
            import h5py, sys
            f = h5py.File(sys.argv[1], "r")
            a = f.attrs
            print(a["format"], int(a["format_version"]), a["note"], float(a["ratio"]))
            m = f["model"]
            w = m["backbone.conv1.weight"]
            print(w.dtype.str, list(w.shape), w[()].ravel().tolist())
            print(m["blocks"].dtype.str, m["blocks"][()].ravel().tolist())
            print(m["num_batches_tracked"].dtype.str, m["num_batches_tracked"][()].tolist())
            print(m["labels"].dtype.str, m["labels"][()].tolist())
            """
        let result = try Python.run(["-c", script, path])
        #expect(result.status == 0, "h5py failed: \(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines.first == "ablate-interop 1 ünïcödé 0.25")
        #expect(
            lines.dropFirst().first
                == "<f4 [2, 1, 2, 3] [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75]")
        #expect(lines.dropFirst(2).first == "<u2 [0, 100, 200, 300, 400, 500, 600, 700]")
        #expect(lines.dropFirst(3).first == "<i8 [7]")
        #expect(lines.dropFirst(4).first == "|u1 [0, 9, 3]")
    }
}
