// SubmissionDeskTests: SUBMIT → missing → uploads → accepted → stored → prepared, from uploaded files only.
import AblateSupport
import DatasetKit
import Foundation
import Logging
import TestSupport
import WireProtocol
import XCTest

@testable import CoordinatorKit

final class SubmissionDeskTests: XCTestCase {
    private let logger = Logger(label: "test")

    /// A command sweep with a dataset, a file input, a directory input and code, written under `client/`.
    private func commandSweep(_ root: TemporaryDirectory) -> String {
        root.write("client/data.bin", text: "any bytes: a command sweep's dataset may be any file\n")
        root.write("client/vocab.txt", text: "a b c\n")
        root.write("client/tree/a.txt", text: "alpha\n")
        root.write("client/tree/sub/b.txt", text: "beta\n")
        root.write("client/train.py", text: "print('hi')\n")
        root.write(
            "client/sweep.yaml",
            text: """
                name: cmd
                dataset: ./data.bin
                baseline: a
                seeds: [1, 2]
                train: {command: [python3, train.py, "{out}"], inputs: {vocab: vocab.txt, tree: tree}}
                variants:
                  a: {}
                  b: {params: {lr: 0.1}}
                  c: {params: {lr: 0.2}, inputs: {vocab: /\(root.path)/client/vocab.txt}}

                """)
        return root.file("client/sweep.yaml")
    }

    private func request(_ package: SubmitPackage, source: String) -> SubmitRequest {
        SubmitRequest(
            requestId: "r1", sweepText: package.text, sourceName: source, priority: 3, files: package.files,
            code: package.code.isEmpty ? nil : package.code)
    }

    /// Uploads every file of `package` that `missing` lists, in pieces of 7 bytes.
    private func upload(_ missing: [String], _ package: SubmitPackage, to desk: SubmissionDesk) throws {
        for sha in missing {
            let path = try XCTUnwrap(package.sources[sha])
            let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path).map { [UInt8]($0) })
            var offset = 0
            var ack = desk.upload(Upload(sha256: sha, offset: 0, totalSize: Int64(bytes.count), payload: [UInt8]()))
            while ack.status == .more {
                offset = Int(ack.nextOffset)
                let end = min(bytes.count, offset + 7)
                ack = desk.upload(
                    Upload(
                        sha256: sha, offset: Int64(offset), totalSize: Int64(bytes.count),
                        payload: Array(bytes[offset..<end])))
            }
            XCTAssertEqual(ack.status, .complete, "\(path)")
        }
    }

    func testACommandSweepGoesFromDeskToAPreparedSchedulerOnUploadsOnly() throws {
        let root = TemporaryDirectory()
        let sweepPath = commandSweep(root)
        let package = try SubmitPackage.prepare(sweepPath: sweepPath, checkStage1: nil)
        defer { package.removeTemporaries() }
        XCTAssertEqual(
            package.files.map(\.path).sorted(), ["\(root.path)/client/vocab.txt", "data.bin", "tree", "vocab.txt"])
        XCTAssertEqual(package.files.first { $0.path == "tree" }?.kind, .archive)
        XCTAssertEqual(package.code.keys.sorted(), ["a", "b", "c"])

        let lab = TemporaryDirectory()
        let desk = SubmissionDesk(labDirectory: lab.path, uploads: UploadStore(labDirectory: lab.path))
        let submit = request(package, source: "sweep.yaml")
        guard case .missing(let missing) = desk.submit(submit, client: "clients/alice", existing: [], now: 5) else {
            return XCTFail("every file is missing at first")
        }
        XCTAssertEqual(missing.count, 3, "vocab.txt is one upload under two paths")
        try upload(missing, package, to: desk)
        // The client's files are gone: the lab has its own copies.
        try FileManager.default.removeItem(atPath: root.file("client"))
        package.removeTemporaries()

        let decision = desk.submit(submit, client: "clients/alice", existing: ["other"], now: 5)
        guard case .accepted(let submission, let cells) = decision else { return XCTFail("\(decision)") }
        XCTAssertEqual(cells, 6)
        XCTAssertEqual(
            decision.reply(requestId: "r1", chunkBytes: 1),
            SubmitReply(requestId: "r1", ok: true, sweep: "cmd", cells: 6))
        XCTAssertEqual(submission.submitter, "clients/alice")
        XCTAssertEqual(submission.priority, 3)
        XCTAssertNil(submission.workingDirectory)
        XCTAssertEqual(submission.files.count, 4)

        let sweepDirectory = "\(lab.path)/sweeps/\(submission.name)"
        try submission.write(sweepDirectory: sweepDirectory)
        let stored = try Submission.read(sweepDirectory: sweepDirectory)
        XCTAssertEqual(stored, submission)
        let setup = try CoordinatorSetup.prepare(
            submission: stored, sweepDirectory: sweepDirectory, uploads: desk.uploads, settings: CoordinatorSettings(),
            now: 10, checkStage1: { _ in throw SubmitPackageError("no stage-1 checkpoint here") }, logger: logger)
        defer { try? setup.ledger.close() }
        XCTAssertEqual(setup.scheduler.cells.count, 6)
        XCTAssertEqual(Set(setup.scheduler.cells.values.map(\.variant)), ["a", "b", "c"])
        XCTAssertEqual(setup.sweep.datasetPath, desk.uploads.path(of: try XCTUnwrap(submission.files["data.bin"])))
        let tree = try XCTUnwrap(setup.sweep.variant(named: "a")?.inputs.first { $0.name == "tree" })
        XCTAssertTrue(Directories.isDirectory(tree.path), tree.path)
        XCTAssertEqual(setup.plan.basis.code["a"]?.sha256, package.code["a"]?.sha256)

        // Submitting the same files again needs no upload; the name is refused while it is served.
        let again = desk.submit(submit, client: "loopback", existing: ["cmd"], now: 6)
        guard case .refused(let problems) = again else { return XCTFail("\(again)") }
        XCTAssertEqual(problems, ["sweep.yaml: a sweep named 'cmd' is served already"])
    }

    func testTheCellIdsOfASubmissionAreThoseOfTheSameSweepRunLocally() throws {
        let root = TemporaryDirectory()
        let sweepPath = commandSweep(root)
        let local = try CoordinatorSetup.prepare(
            sweepPath: sweepPath, stateDirectory: root.file("state"), settings: CoordinatorSettings(), now: 1,
            checkStage1: { _ in throw SubmitPackageError("none") }, logger: logger)
        let localIDs = Set(local.scheduler.cells.keys)
        try local.ledger.close()
        let package = try SubmitPackage.prepare(sweepPath: sweepPath, checkStage1: nil)
        defer { package.removeTemporaries() }
        let lab = TemporaryDirectory()
        let desk = SubmissionDesk(labDirectory: lab.path, uploads: UploadStore(labDirectory: lab.path))
        if case .missing(let missing) = desk.submit(
            request(package, source: "s.yaml"), client: "c", existing: [], now: 1)
        {
            try upload(missing, package, to: desk)
        }
        guard
            case .accepted(let submission, _) = desk.submit(
                request(package, source: "s.yaml"), client: "c", existing: [], now: 1)
        else { return XCTFail("accepted") }
        let setup = try CoordinatorSetup.prepare(
            submission: submission, sweepDirectory: lab.file("sweeps/cmd"), uploads: desk.uploads,
            settings: CoordinatorSettings(), now: 2, checkStage1: { _ in throw SubmitPackageError("none") },
            logger: logger)
        defer { try? setup.ledger.close() }
        XCTAssertEqual(Set(setup.scheduler.cells.keys), localIDs)
    }

    func testANativeSweepWithAnAblateDataset() throws {
        let root = TemporaryDirectory()
        let dataset = SyntheticGenerator(blockSize: 16).dataset(train: 200, val: 100, seed: 3)
        try Directories.create(root.file("client"))
        _ = try DatasetWriter.write(dataset, to: root.file("client/blocks.h5"), overwrite: false)
        root.write(
            "client/sweep.yaml",
            text: """
                name: native
                dataset: blocks.h5
                stage1: {epochs: 1, width: 16, seed: 42}
                baseline: a
                seeds: [1, 2, 3]
                train: {width: 16, epochs: 1}
                variants:
                  a: {}
                  b: {backbone_bn: train}

                """)
        let package = try SubmitPackage.prepare(sweepPath: root.file("client/sweep.yaml"), checkStage1: nil)
        XCTAssertEqual(package.files.map(\.path), ["blocks.h5"])
        let lab = TemporaryDirectory()
        let desk = SubmissionDesk(labDirectory: lab.path, uploads: UploadStore(labDirectory: lab.path))
        guard
            case .missing(let missing) = desk.submit(
                request(package, source: "n.yaml"), client: "c", existing: [], now: 1)
        else { return XCTFail("missing") }
        try upload(missing, package, to: desk)
        try FileManager.default.removeItem(atPath: root.file("client"))
        let decision = desk.submit(request(package, source: "n.yaml"), client: "c", existing: [], now: 1)
        guard case .accepted(let submission, let cells) = decision else { return XCTFail("\(decision)") }
        XCTAssertEqual(cells, 7, "the stage-1 job and 2 variants × 3 seeds")
        try submission.write(sweepDirectory: lab.file("sweeps/native"))
        let setup = try CoordinatorSetup.prepare(
            submission: try Submission.read(sweepDirectory: lab.file("sweeps/native")),
            sweepDirectory: lab.file("sweeps/native"), uploads: desk.uploads, settings: CoordinatorSettings(), now: 2,
            checkStage1: { _ in throw SubmitPackageError("none") }, logger: logger)
        defer { try? setup.ledger.close() }
        XCTAssertEqual(setup.scheduler.cells.count, 7)
        XCTAssertEqual(setup.sweep.datasetPath, desk.uploads.path(of: try XCTUnwrap(submission.files["blocks.h5"])))
    }

    func testProblemsComeAllAtOnceAndPathsMustMatchTheFiles() throws {
        let lab = TemporaryDirectory()
        let desk = SubmissionDesk(labDirectory: lab.path, uploads: UploadStore(labDirectory: lab.path))
        let sha = String(repeating: "a", count: 64)
        let text = """
            name: bad
            dataset: d.bin
            baseline: a
            seeds: [1]
            train: {command: [sh, run.sh], inputs: {cfg: conf.json}}
            variants:
              a: {}

            """
        let files = [
            SubmitFile(path: "d.bin", sha256: sha, size: 3, kind: .archive, manifestSha256: sha),
            SubmitFile(path: "other.bin", sha256: sha, size: 3, kind: .file),
        ]
        let decision = desk.submit(
            SubmitRequest(requestId: "r", sweepText: text, sourceName: "b.yaml", files: files), client: "c",
            existing: [], now: 1)
        guard case .refused(let problems) = decision else { return XCTFail("\(decision)") }
        XCTAssertEqual(problems.count, 3, "\(problems)")
        XCTAssertTrue(
            problems.contains("b.yaml:2: dataset: 'd.bin' is a directory; a file is needed here"), "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("'conf.json' is not among the submitted files") }, "\(problems)")
        XCTAssertTrue(problems.contains("b.yaml: files: 'other.bin' is not a path the sweep names"), "\(problems)")
        let parse = desk.submit(
            SubmitRequest(requestId: "r", sweepText: "name: x\nseeds: nope\n", sourceName: "b.yaml", files: []),
            client: "c", existing: [], now: 1)
        guard case .refused(let lines) = parse else { return XCTFail("\(parse)") }
        XCTAssertGreaterThan(lines.count, 1, "every problem of the text: \(lines)")
        XCTAssertEqual(
            desk.submit(
                SubmitRequest(requestId: "r", sweepText: text, sourceName: "b", files: []), client: "workers/w",
                existing: [], now: 1),
            .refused(["key workers/w may not submit: only keys in clients/ may"]))
    }
}
