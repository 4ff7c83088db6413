// WorkerCoreGPUPackingTests: command jobs packed over --gpus × --slots-per-gpu (least-loaded GPU, lowest index among equals) and the GPUs HELLO reports.
import RunSpec
import WireProtocol
import XCTest

@testable import WorkerKit

extension WorkerCoreTests {
    func packedCore(gpus: [Int], perGPU: Int) -> WorkerCore {
        var options = WorkerOptions(endpoint: "ipc:///nowhere", name: "w0", workDirectory: "/nowhere")
        options.gpus = gpus
        options.slotsPerGPU = perGPU
        options.slots = gpus.count * perGPU
        return WorkerCore(options: options, incarnation: "i1", host: "host", blasCore: "generic")
    }

    func startedGPU(_ actions: [WorkerAction]) -> Int?? {
        for case .startCommand(_, _, let gpu) in actions { return .some(gpu) }
        return nil
    }

    func testTwoSlotsPerGPUSpreadJobsOverTheLeastLoadedGPU() throws {
        var core = packedCore(gpus: [0, 1], perGPU: 2)
        connect(&core)
        var given: [Int] = []
        for cell in ["a", "b", "c", "d"] as [Character] {
            given.append(try XCTUnwrap(startedGPU(assign(&core, try assignment(cell))) ?? nil))
        }
        XCTAssertEqual(given, [0, 1, 0, 1], "each new job goes to the GPU with fewer jobs, GPU 0 first among equals")
        XCTAssertEqual(core.jobs.values.filter { $0.gpu == 0 }.count, 2)
        XCTAssertEqual(core.jobs.values.filter { $0.gpu == 1 }.count, 2)
        // b's process ends: GPU 1 now has one job, GPU 0 two.
        _ = core.handle(.failed(cell: id("b"), attempt: 1, reason: "exit 1", deterministic: true), now: 2)
        XCTAssertEqual(startedGPU(assign(&core, try assignment("e"))), .some(1))
        _ = core.handle(.finished(cell: id("a"), attempt: 1, summary: "{}"), now: 3)
        _ = core.handle(.finished(cell: id("c"), attempt: 1, summary: "{}"), now: 3)
        XCTAssertEqual(startedGPU(assign(&core, try assignment("f"))), .some(0), "GPU 0 is free, GPU 1 holds d and e")
    }

    func testTiesGoToTheLowestGPUIndexWhateverTheOrderGiven() {
        XCTAssertEqual(WorkerCore.leastLoaded([3, 1, 2], pinned: []), 1)
        XCTAssertEqual(WorkerCore.leastLoaded([3, 1, 2], pinned: [1]), 2)
        XCTAssertEqual(WorkerCore.leastLoaded([3, 1, 2], pinned: [1, 2, 3, 1]), 2)
        XCTAssertEqual(WorkerCore.leastLoaded([0, 1], pinned: [0, 0, 1]), 1)
        XCTAssertNil(WorkerCore.leastLoaded([], pinned: []))
    }

    func testOneSlotPerGPUStillGivesEachJobItsOwnGPU() throws {
        var core = packedCore(gpus: [2, 5], perGPU: 1)
        connect(&core)
        XCTAssertEqual(startedGPU(assign(&core, try assignment("a"))), .some(2))
        XCTAssertEqual(startedGPU(assign(&core, try assignment("b"))), .some(5))
        XCTAssertEqual(
            startedGPU(assign(&core, try assignment("n", command: nil))), nil, "the native trainer takes no GPU")
    }

    func testHelloReportsTheWorkersGPUs() throws {
        func hello(_ core: inout WorkerCore) throws -> Hello {
            for case .send(.hello(let hello)) in core.start(now: 0) { return hello }
            struct NoHello: Error {}
            throw NoHello()
        }
        var packed = packedCore(gpus: [0, 1], perGPU: 2)
        let first = try hello(&packed)
        XCTAssertEqual(first.gpus, [0, 1])
        XCTAssertNil(first.gpu, "gpu stays as before for older readers")
        XCTAssertEqual(first.slots, 4)
        var options = WorkerOptions(endpoint: "ipc:///nowhere", name: "w1", workDirectory: "/nowhere")
        options.gpu = 3
        var single = WorkerCore(options: options, incarnation: "i", host: "h", blasCore: "")
        let second = try hello(&single)
        XCTAssertEqual(second.gpu, 3)
        XCTAssertEqual(second.gpus, [3])
        var none = core()
        XCTAssertNil(try hello(&none).gpus)
    }
}
