// WorkerLabelStatusTests: a worker's HELLO label reaches the status rows of its cells and the status table.
import CoordinatorKit
import WireProtocol
import XCTest

extension SchedulerTests {
    func testTheLabelOfAWorkersLatestHelloIsShownNextToItsName() {
        var scheduler = makeScheduler([SchedulerTests.cell(1), SchedulerTests.cell(2)])
        func hello(_ worker: String, label: String?) -> Message {
            .hello(
                Hello(
                    worker: worker, incarnation: "aa", host: "h", threads: 1, gpu: nil, slots: 1, codeVersion: "t",
                    blasCore: "x", resuming: [], label: label))
        }
        _ = scheduler.handle(hello("gpu0", label: "slurm:7_0"), from: [1], now: 0)
        _ = scheduler.handle(hello("plain", label: nil), from: [2], now: 0)
        let rows = scheduler.statusReply(now: 1).rows
        XCTAssertEqual(Set(rows.compactMap { $0.worker }), ["gpu0", "plain"])
        XCTAssertEqual(rows.first { $0.worker == "gpu0" }?.workerLabel, "slurm:7_0")
        XCTAssertNil(rows.first { $0.worker == "plain" }?.workerLabel)
        let table = StatusTable.text(rows)
        XCTAssertTrue(table.contains("gpu0 [slurm:7_0]"), table)
        XCTAssertFalse(table.contains("plain ["), table)
        let workers = StatusTable.workerLines(scheduler.statusReply(now: 1).workers ?? [])
        XCTAssertTrue(workers.contains { $0.hasPrefix("worker gpu0 [slurm:7_0]: ") }, "\(workers)")
        XCTAssertTrue(workers.contains { $0.hasPrefix("worker plain: ") }, "\(workers)")

        // A new process under the same name without a label: the old label is not shown any more.
        _ = scheduler.handle(hello("gpu0", label: nil), from: [3], now: 2)
        XCTAssertFalse(StatusTable.text(scheduler.statusReply(now: 3).rows).contains("[slurm:7_0]"))
    }
}
