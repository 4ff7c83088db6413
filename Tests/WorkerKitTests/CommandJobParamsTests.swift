// CommandJobParamsTests: a command job's params reach its environment as ABLATE_PARAM_<NAME> with their placeholder texts.
import RunSpec
import WireProtocol
import WorkerKit
import XCTest

final class CommandJobParamsTests: XCTestCase {
    private func spec(params: String?) -> CommandJobSpec {
        let assign = Assign(
            cell: String(repeating: "c", count: 64), attempt: 1, variant: "v", seed: 7, config: "{}",
            dataset: ArtifactRef(name: "d", sha256: String(repeating: "a", count: 64), size: 1), stage1: nil,
            resume: nil,
            command: ["sh", "run.sh"], params: params)
        var spec = CommandJobSpec(
            assign: assign, argv: ["sh", "run.sh"], runDirectory: "/tmp/run", outboxDirectory: "/tmp/outbox", gpu: nil,
            datasetPath: "/tmp/d.h5", stage1Path: nil, resumePath: nil, execGuard: nil, timeoutSeconds: nil)
        spec.baseEnvironment = ["PATH": "/bin", "ABLATE_PARAM_STALE": "x"]
        return spec
    }

    func testEachParamIsAnEnvironmentVariable() throws {
        let spec = spec(params: #"{"dropout":0.1,"layers":[64,32],"name":"a b","use_bn":true,"whole":1.0}"#)
        let environment = CommandJob.environment(spec)
        XCTAssertEqual(environment["ABLATE_PARAM_DROPOUT"], "0.1")
        XCTAssertEqual(environment["ABLATE_PARAM_LAYERS"], "64,32")
        XCTAssertEqual(environment["ABLATE_PARAM_NAME"], "a b")
        XCTAssertEqual(environment["ABLATE_PARAM_USE_BN"], "true")
        XCTAssertEqual(environment["ABLATE_PARAM_WHOLE"], "1.0")
        XCTAssertNil(environment["ABLATE_PARAM_STALE"])
        XCTAssertEqual(spec.paramsPath, "/tmp/run/out/params.json")
        XCTAssertEqual(
            try spec.params().canonicalJSON, #"{"dropout":0.1,"layers":[64,32],"name":"a b","use_bn":true,"whole":1.0}"#
        )
    }

    func testNoParamsAddNothing() throws {
        let environment = CommandJob.environment(spec(params: nil))
        XCTAssertEqual(environment.keys.filter { $0.hasPrefix("ABLATE_PARAM_") }, [], "none inherited from the worker")
        XCTAssertEqual(environment["PATH"], "/bin")
        XCTAssertEqual(try spec(params: nil).params(), .none)
    }
}
