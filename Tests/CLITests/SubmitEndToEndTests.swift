// SubmitEndToEndTests: `ablate submit` against a lab stand-in — uploads, reuse, a killed upload resumed, refusals.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class SubmitEndToEndTests: XCTestCase {
    /// A command sweep naming a dataset of `datasetBytes` bytes, a file input and a directory input.
    private func sweep(in directory: TemporaryDirectory, name: String = "remote", datasetBytes: Int = 300_000) -> String
    {
        var bytes = [UInt8](repeating: 0, count: datasetBytes)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 56)
        }
        directory.write("client/data.bin", bytes: bytes)
        directory.write("client/labels.txt", text: "a\nb\n")
        directory.write("client/assets/one.txt", text: "1\n")
        directory.write("client/assets/deep/two.txt", text: "2\n")
        directory.write("client/run.sh", text: "#!/bin/sh\necho hi\n")
        directory.write(
            "client/sweep.yaml",
            text: """
                name: \(name)
                dataset: data.bin
                baseline: a
                seeds: [1, 2, 3]
                train: {command: [sh, run.sh, "{out}"], inputs: {labels: labels.txt, assets: assets}}
                variants:
                  a: {}
                  b: {params: {depth: 2}}

                """)
        return directory.file("client/sweep.yaml")
    }

    private func submit(_ sweep: String, _ lab: LabStandIn, _ extra: [String] = []) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try AblateBinary.run(["submit", sweep, "--connect", lab.endpoint, "--timeout", "20"] + extra)
    }

    func testASweepIsUploadedThenSubmittedAndASecondSubmitUploadsNothing() throws {
        let directory = TemporaryDirectory()
        let path = sweep(in: directory)
        let lab = LabStandIn(lab: TemporaryDirectory())
        try lab.start()
        defer { lab.stop() }
        let first = try submit(path, lab)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(
            first.stdout.contains("submitted sweep remote: 6 cells (uploaded 0.3 MiB, 0 files already there)"),
            first.stdout)
        XCTAssertEqual(lab.counts.accepted, ["remote"])
        XCTAssertEqual(lab.counts.submits, 2, "SUBMIT, uploads, SUBMIT again")
        let uploaded = lab.counts.bytes
        XCTAssertGreaterThan(uploaded, 300_000)
        XCTAssertEqual(directory.entries("client").filter { $0.hasPrefix("ablate-submit") }, [])

        let second = try submit(path, lab, ["--json", "--priority", "7"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any], second.stdout)
        XCTAssertEqual(object["sweep"] as? String, "remote")
        XCTAssertEqual(object["cells"] as? Int, 6)
        XCTAssertEqual(object["uploaded_bytes"] as? Int, 0)
        XCTAssertEqual(object["files_present"] as? Int, 3)
        XCTAssertEqual(lab.counts.bytes, uploaded, "nothing uploaded the second time")
        XCTAssertEqual(lab.counts.submits, 3)
    }

    func testAKilledUploadResumesFromTheLabsBytes() throws {
        let directory = TemporaryDirectory()
        let total: Int64 = 4 << 20
        let path = sweep(in: directory, datasetBytes: Int(total))
        let lab = LabStandIn(lab: TemporaryDirectory())
        lab.uploadDelay = 0.01
        try lab.start()
        defer { lab.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: AblateBinary.path)
        process.arguments = ["submit", path, "--connect", lab.endpoint, "--timeout", "20"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while lab.counts.bytes < total / 3, Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = lab.counts.bytes
        XCTAssertGreaterThanOrEqual(before, total / 3, "the upload was under way when the client was killed")
        XCTAssertLessThan(before, total, "killed before the dataset was whole")
        lab.uploadDelay = 0
        let again = try submit(path, lab)
        XCTAssertEqual(again.status, 0, again.stderr)
        let sent = lab.counts.bytes - before
        XCTAssertLessThan(sent, total, "the second run went on from next_offset: \(sent) bytes sent")
        XCTAssertGreaterThan(sent, 0)
        XCTAssertEqual(lab.counts.accepted, ["remote"])
    }

    func testBytesThatDoNotHashToTheirNameAreOneLineAndNonZero() throws {
        let directory = TemporaryDirectory()
        let path = sweep(in: directory)
        let lab = LabStandIn(lab: TemporaryDirectory())
        lab.corrupt = true
        try lab.start()
        defer { lab.stop() }
        let result = try submit(path, lab)
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("do not hash to"), result.stderr)
        XCTAssertEqual(lab.counts.accepted, [])
    }

    func testABadSweepListsEveryProblemAndSendsNothing() throws {
        let directory = TemporaryDirectory()
        directory.write(
            "sweep.yaml",
            text: """
                name: bad
                dataset: nowhere.bin
                baseline: a
                seeds: [1]
                train: {command: [sh, run.sh], inputs: {cfg: missing.json}}
                variants:
                  a: {}

                """)
        let lab = LabStandIn(lab: TemporaryDirectory())
        try lab.start()
        defer { lab.stop() }
        let result = try submit(directory.file("sweep.yaml"), lab)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("sweep.yaml:2: dataset:"), result.stderr)
        XCTAssertTrue(result.stderr.contains("sweep.yaml:5: train.inputs.cfg"), result.stderr)
        XCTAssertEqual(lab.counts.submits, 0)
        XCTAssertEqual(lab.counts.uploads, 0)
    }

    func testNoLabIsOneLineAndARefusedPriorityIsUsage() throws {
        let directory = TemporaryDirectory()
        let path = sweep(in: directory, datasetBytes: 10)
        let none = try AblateBinary.run([
            "submit", path, "--connect", "ipc://\(directory.file("none.sock"))", "--timeout", "1",
        ])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("no answer from a lab within 1 s"), none.stderr)
        let usage = try AblateBinary.run(["submit", path, "--connect", "tcp://127.0.0.1:1", "--priority", "1001"])
        XCTAssertEqual(usage.status, 64, usage.stderr)
        XCTAssertTrue(usage.stderr.contains("--priority must be in -1000 … 1000"), usage.stderr)
    }
}
