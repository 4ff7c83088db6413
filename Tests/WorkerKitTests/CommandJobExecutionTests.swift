// CommandJobExecutionTests: a command job's env, workdir, resume file and checkpoint patterns, as ASSIGN gives them.
import Foundation
import RunSpec
import TestSupport
import WireProtocol
import WorkerKit
import XCTest

final class CommandJobExecutionTests: XCTestCase {
    private func spec(
        env: [String: String]? = nil, workdir: String? = nil, resumeFile: String? = nil, checkpoints: [String]? = nil,
        gpu: Int? = nil
    ) -> CommandJobSpec {
        let assign = Assign(
            cell: String(repeating: "c", count: 64), attempt: 1, variant: "v", seed: 7, config: "{}",
            dataset: ArtifactRef(name: "d", sha256: String(repeating: "a", count: 64), size: 1), stage1: nil,
            resume: nil, command: ["sh", "run.sh"], env: env, workdir: workdir, resumeFile: resumeFile,
            checkpoints: checkpoints)
        var spec = CommandJobSpec(
            assign: assign, argv: ["sh", "run.sh", "{gpu}"], runDirectory: "/tmp/run", outboxDirectory: "/tmp/outbox",
            gpu: gpu, datasetPath: "/tmp/d.h5", stage1Path: nil, resumePath: "/cache/x", execGuard: nil,
            timeoutSeconds: nil)
        spec.baseEnvironment = ["PATH": "/bin", "MODE": "worker's"]
        return spec
    }

    func testEnvIsSetWithTheWorkersPlaceholdersFilledAndAblatesVariablesStayAblates() {
        let environment = CommandJob.environment(
            spec(env: ["MODE": "cell's", "TAG": "gpu{gpu} out {out} {other}"], gpu: 1))
        XCTAssertEqual(environment["MODE"], "cell's", "the cell's env wins over the worker's environment")
        XCTAssertEqual(environment["TAG"], "gpu1 out /tmp/run/out {other}")
        XCTAssertEqual(environment["CUDA_VISIBLE_DEVICES"], "1")
        XCTAssertEqual(environment["ABLATE_OUT"], "/tmp/run/out")
        XCTAssertEqual(CommandJob.environment(spec())["MODE"], "worker's", "no env: the worker's environment as it is")
    }

    func testTheResumeFileNamesTheCopyAndIsAlwaysStreamed() {
        let custom = spec(resumeFile: "ck/state.pt", checkpoints: ["ckpt-*.bin"])
        XCTAssertEqual(custom.resumeCopyPath, "/tmp/run/resume-state.pt")
        XCTAssertEqual(CommandJob.environment(custom)["ABLATE_RESUME"], "/tmp/run/resume-state.pt")
        XCTAssertEqual(custom.patterns, ["ckpt-*.bin", "ck/state.pt"])
        let plain = spec()
        XCTAssertEqual(plain.resumeCopyPath, "/tmp/run/resume-last.h5", "as before resume_file existed")
        XCTAssertEqual(plain.patterns, OutputWatcher.defaultPatterns + ["last.h5"])
        XCTAssertEqual(spec(checkpoints: []).patterns, ["last.h5"])
    }

    func testARelativeWorkdirIsTakenFromTheWorkersWorkingDirectory() {
        XCTAssertNil(spec().commandDirectory)
        XCTAssertEqual(spec(workdir: "/srv/code").commandDirectory, "/srv/code")
        XCTAssertEqual(
            spec(workdir: "code/x").commandDirectory, FileManager.default.currentDirectoryPath + "/code/x")
    }

    func testPatternsWithASlashMatchThePathBelowTheOutputDirectory() throws {
        let directory = TemporaryDirectory()
        var watcher = OutputWatcher(directory: directory.path, patterns: ["ckpt-*.bin", "best/*.pt", "state.pt"])
        directory.write("ckpt-1.bin", text: "1")
        directory.write("deep/ckpt-2.bin", text: "2")
        directory.write("best/model.pt", text: "3")
        directory.write("best/deeper/model2.pt", text: "4")
        directory.write("other/model3.pt", text: "5")
        directory.write("state.pt", text: "6")
        directory.write("notes.pt", text: "7")
        let files = try watcher.poll(final: true).files.map(\.relativePath)
        XCTAssertEqual(files, ["best/model.pt", "ckpt-1.bin", "deep/ckpt-2.bin", "state.pt"])
    }
}
