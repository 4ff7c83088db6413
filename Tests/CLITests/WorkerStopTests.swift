// WorkerStopTests: a worker stopped (SIGTERM) mid-epoch after its coordinator died exits cleanly, every time.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class WorkerStopTests: XCTestCase {
    /// The coordinator is SIGKILLed while a cell trains; once the worker's link has expired (no coordinator to flush
    /// to), SIGTERM must still end the worker with status 0: its training thread is cancelled and joined before the
    /// process's exit path tears OpenBLAS down (it used to segfault there).
    func testSIGTERMAfterTheCoordinatorDiedEndsTheWorkerCleanly() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: stop
                dataset: \(dataset)
                stage1: {epochs: 40, width: 16, seed: 42}
                baseline: cb_focal
                seeds: [42]
                train: {width: 16, epochs: 1}
                variants:
                  cb_focal: {loss: cb_focal}

                """)
        for round in 0..<2 {
            let cluster = LocalCluster(directory: directory, name: "stop\(round)")
            defer { cluster.stopAll() }
            try cluster.startCoordinator(sweep: directory.file("sweep.yaml"))
            let name = "w\(round)"
            try cluster.startWorker(name)
            try cluster.wait("a cell training", timeout: 60) { cluster.cells().contains { $0.state == .running } }
            Thread.sleep(forTimeInterval: 0.5)
            try cluster.killCoordinator()
            // Past the worker's liveness window (5 heartbeats of 400 ms): it no longer counts itself connected.
            Thread.sleep(forTimeInterval: 2.5 + 0.3 * Double(round))
            try cluster.signal(worker: name, SIGTERM)
            let worker = try XCTUnwrap(cluster.workers[name])
            try cluster.wait("the worker to exit", timeout: 30) { !worker.isRunning }
            XCTAssertEqual(
                worker.terminationReason, .exit,
                "round \(round): killed by signal \(worker.terminationStatus)\n\(cluster.logTails())")
            XCTAssertEqual(worker.terminationStatus, 0, "round \(round)\n\(cluster.logTails())")
            // The crash was a race; what makes it impossible is joining the thread first, which the log shows.
            let log = (try? String(contentsOfFile: directory.file("worker-\(name).log"), encoding: .utf8)) ?? ""
            XCTAssertTrue(
                log.contains("its thread stopped after epoch"),
                "round \(round): the worker exited before its training thread\n\(log)")
        }
    }
}
