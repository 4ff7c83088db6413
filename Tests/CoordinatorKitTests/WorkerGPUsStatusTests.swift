// WorkerGPUsStatusTests: the GPUs a worker's HELLO reports reach the ledger (workers.gpus) and `ablate status`'s worker lines.
import CoordinatorKit
import TestSupport
import WireProtocol
import XCTest

final class WorkerGPUsStatusTests: XCTestCase {
    typealias F = LedgerFixtures

    func testAWorkersGPUsRoundTripThroughTheLedger() throws {
        let dir = TemporaryDirectory("ledger")
        let ledger = try Ledger(directory: dir.path)
        var packed = F.worker("host-gpus0-1", seen: 1)
        packed.gpus = [0, 1]
        packed.slots = 4
        try ledger.upsertWorker(packed)
        try ledger.upsertWorker(F.worker("host-cpu", seen: 2))
        var emptyList = F.worker("host-none", seen: 3)
        emptyList.gpus = []
        try ledger.upsertWorker(emptyList)
        let read = try Ledger(readingDirectory: dir.path).workers()
        XCTAssertEqual(read.first { $0.name == "host-gpus0-1" }?.gpus, [0, 1])
        XCTAssertNil(try XCTUnwrap(read.first { $0.name == "host-cpu" }).gpus)
        XCTAssertEqual(read.first { $0.name == "host-none" }?.gpus, [])
    }

    func testWorkerLinesShowEachWorkersGPUsAndSlots() throws {
        var packed = F.worker("b-packed", seen: 1)
        packed.gpus = [0, 1]
        packed.slots = 4
        var single = F.worker("a-single", seen: 1)
        single.gpu = 3
        single.slots = 1
        var old = F.worker("c-old", seen: 1)
        old.gpu = 2
        old.slots = 2
        old.gpus = nil
        let cpu = F.worker("d-cpu", seen: 1)
        let running = [F.running(F.cell("a", position: 0), attempt: 1, worker: "b-packed"), F.cell("b", position: 1)]
        let workers = try XCTUnwrap(StatusTable.workers([packed, single, old, cpu], cells: running))
        XCTAssertEqual(workers.map(\.cells), [0, 1, 0, 0], "b-packed runs one cell")
        let lines = StatusTable.workerLines(workers)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "worker a-single: GPU 3, 1 slot, 0 running (host host)")
        XCTAssertEqual(lines[1], "worker b-packed: GPUs 0,1, 4 slots, 1 running (host host)")
        XCTAssertTrue(lines[2].hasPrefix("worker c-old: GPU 2, 2 slots"), "a worker from before gpus: its gpu")
        XCTAssertTrue(lines[3].hasPrefix("worker d-cpu: no GPU"), lines[3])
        XCTAssertNil(StatusTable.workers([], cells: running))
    }

    func testTheSchedulerRecordsTheGPUsOfAHello() throws {
        let settings = CoordinatorSettings()
        var scheduler = Scheduler(
            settings: settings, incarnation: "c1", cells: [], files: [], artifacts: [:],
            dataset: ArtifactRef(name: "dataset.h5", sha256: F.id("d"), size: 1), stage1Checkpoint: nil, now: 0)
        let hello = Hello(
            worker: "w", incarnation: "i", host: "h", threads: 1, gpu: nil, slots: 4, codeVersion: "dev",
            blasCore: "", resuming: [], gpus: [0, 1])
        let actions = scheduler.handle(.hello(hello), from: [1], now: 1)
        let saved = actions.compactMap { action -> WorkerRecord? in
            if case .saveWorker(let worker) = action { return worker }
            return nil
        }
        XCTAssertEqual(saved.map(\.gpus), [[0, 1]])
        let workers = try XCTUnwrap(scheduler.statusReply(now: 2).workers)
        XCTAssertEqual(workers, [StatusReply.Worker(worker: "w", host: "h", slots: 4, gpus: [0, 1], cells: 0)])
        XCTAssertEqual(
            StatusTable.workerLines(
                workers + [StatusReply.Worker(worker: "v", host: "", slots: 1, gpus: nil, cells: 1)]),
            ["worker v: no GPU, 1 slot, 1 running", "worker w: GPUs 0,1, 4 slots, 0 running (host h)"])
        XCTAssertNil(
            Scheduler(
                settings: settings, incarnation: "c2", cells: [], files: [], artifacts: [:],
                dataset: ArtifactRef(name: "dataset.h5", sha256: F.id("d"), size: 1), stage1Checkpoint: nil, now: 0
            ).statusReply(now: 0).workers, "no session: no workers key")
    }
}
