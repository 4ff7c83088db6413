// SweepPathsTests: relative paths in a sweep resolve against the sweep file's directory, with a hint for old sweeps.
import Foundation
import TestSupport
import XCTest

final class SweepPathsTests: XCTestCase {
    /// Runs `ablate ARGS` from `directory` (the working directory is what the old rule resolved against).
    private func ablate(in directory: String, _ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let quoted = ([AblateBinary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let result = try Subprocess.capture("/bin/sh", ["-c", "cd '\(directory)' && exec \(quoted)"])
        return (result.status, result.stderr)
    }

    private func sweep(dataset: String) -> String {
        "name: paths\ndataset: \(dataset)\nstage1_checkpoint: s1.h5\nbaseline: a\nseeds: [1]\nvariants: {a: {}}\n"
    }

    func testADatasetPathIsResolvedAgainstTheSweepFilesDirectory() throws {
        let dir = TemporaryDirectory()
        let synth = try AblateBinary.run(["data", "synth", "-o", dir.file("data/d.h5"), "--train", "20", "--val", "10"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        dir.write("sweeps/s.yaml", text: sweep(dataset: "../data/d.h5"))
        // Run from elsewhere: the dataset is found next to the sweep, so the first problem is the missing checkpoint.
        let run = try ablate(in: "/", ["local", "-s", dir.file("sweeps/s.yaml"), "--state", dir.file("state")])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("s.yaml:3: stage1_checkpoint: "), run.stderr)
        XCTAssertTrue(run.stderr.contains(dir.file("sweeps/s1.h5")), run.stderr)
        XCTAssertFalse(run.stderr.contains("dataset:"), run.stderr)
        XCTAssertEqual(dir.entries(), ["data", "sweeps"], "a refused sweep leaves no state directory")
    }

    func testAnOldSweepWhoseRelativePathNowMissesSaysWhy() throws {
        let dir = TemporaryDirectory()
        let synth = try AblateBinary.run(["data", "synth", "-o", dir.file("data/d.h5"), "--train", "20", "--val", "10"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        dir.write("sweeps/s.yaml", text: sweep(dataset: "data/d.h5"))
        let run = try ablate(in: dir.path, ["local", "-s", "sweeps/s.yaml"])
        XCTAssertNotEqual(run.status, 0)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("Error: sweeps/s.yaml:2: dataset: "), run.stderr)
        XCTAssertTrue(
            run.stderr.contains("resolved against the sweep file's directory (\(dir.file("sweeps")))"), run.stderr)
        XCTAssertTrue(run.stderr.contains("write \(dir.file("data/d.h5"))"), run.stderr)
        XCTAssertEqual(dir.entries(), ["data", "sweeps"])
    }
}
