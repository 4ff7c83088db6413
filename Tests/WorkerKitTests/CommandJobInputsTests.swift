// CommandJobInputsTests: a command job's inputs reach its environment as ABLATE_INPUT_<NAME>, and a sweep without a dataset sets no ABLATE_DATASET.
import WireProtocol
import WorkerKit
import XCTest

final class CommandJobInputsTests: XCTestCase {
    func testEachInputIsAnAbsolutePathAndTheWorkersOwnAreRemoved() {
        let file = String(repeating: "a", count: 64)
        let tree = String(repeating: "b", count: 64)
        let inputs = [
            InputRef(
                name: "cfg", kind: .file, sha256: file, artifact: ArtifactRef(name: "input-cfg", sha256: file, size: 2)),
            InputRef(
                name: "tree_2", kind: .directory, sha256: tree,
                artifact: ArtifactRef(name: "input-tree_2", sha256: String(repeating: "c", count: 64), size: 9)),
        ]
        let assign = Assign(
            cell: String(repeating: "c", count: 64), attempt: 1, variant: "v", seed: 7, config: "{}", dataset: nil,
            stage1: nil, resume: nil, command: ["sh", "run.sh"], inputs: inputs)
        var spec = CommandJobSpec(
            assign: assign, argv: ["sh", "run.sh"], runDirectory: "/tmp/run", outboxDirectory: "/tmp/outbox", gpu: nil,
            datasetPath: nil, stage1Path: nil, resumePath: nil, execGuard: nil, timeoutSeconds: nil,
            inputs: inputs.map {
                CommandInput(
                    ref: $0, artifactPath: "/cache/artifacts/\($0.artifact.sha256)", inputsDirectory: "/cache/inputs")
            })
        spec.baseEnvironment = ["PATH": "/bin", "ABLATE_INPUT_STALE": "x", "ABLATE_DATASET": "/old"]
        let environment = CommandJob.environment(spec)
        XCTAssertEqual(environment["ABLATE_INPUT_CFG"], "/cache/artifacts/\(file)")
        XCTAssertEqual(environment["ABLATE_INPUT_TREE_2"], "/cache/inputs/\(tree)")
        XCTAssertNil(environment["ABLATE_INPUT_STALE"], "exactly the cell's inputs")
        XCTAssertNil(environment["ABLATE_DATASET"], "no dataset, no variable")
    }
}
