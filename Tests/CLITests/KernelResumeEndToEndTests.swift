// KernelResumeEndToEndTests: a cell killed on a worker of one GEMM path and resumed on a worker forced to another ends bit for bit as the undisturbed run.
import AblateSupport
import Foundation
import NN
import TestSupport
import XCTest

/// The own GEMM kernels' promise end to end: the bits of a training run depend on neither the CPU nor the path, so
/// a cell requeued from a worker on one path to a worker on another continues exactly. The undisturbed run uses the
/// fastest path this CPU has; the disturbed one starts there, is SIGKILLed in the middle of the first stage-2
/// cell's epochs, and finishes every remaining cell on a worker forced to the next path down (`--kernel`).
final class KernelResumeEndToEndTests: XCTestCase {
    func testCellResumedOnAnotherKernelPathEndsAsTheUndisturbedRun() throws {
        let first = GEMMKernel.best
        // The next path down that the CPU has: AVX2 under AVX-512 keeps the run quick; the scalar path otherwise.
        let second = GEMMKernel.supported.first { $0 != first } ?? .scalar
        XCTAssertNotEqual(first, second)
        let directory = TemporaryDirectory()
        let sweep = try LocalCluster.faultSweep(in: directory, name: "kernel-resume")
        let streaming = ["--checkpoint-interval", "0"]

        let clean = LocalCluster(directory: directory, name: "clean")
        defer { clean.stopAll() }
        try clean.startCoordinator(sweep: sweep)
        try clean.startWorker(
            "clean", arguments: streaming + ["--kernel", first.rawValue], cache: "cache-clean")
        XCTAssertEqual(try clean.waitForCoordinator(timeout: 300), 0, clean.logTails())
        let reference = try ResultSnapshot(state: clean.state, ignoring: ["gemm_kernel"])

        let cluster = LocalCluster(directory: directory, name: "moved")
        defer { cluster.stopAll() }
        let marker = directory.file("moved.marker")
        // The third mid-epoch point falls inside the first stage-2 cell (see FaultCase.occurrence).
        let pause = ["--fault-pause", "\(FaultPhase.midEpoch.rawValue):3", "--fault-marker", marker]
        try cluster.startCoordinator(sweep: sweep)
        try cluster.startWorker(
            "w", arguments: streaming + ["--kernel", first.rawValue] + pause, cache: "cache-moved")
        let deadline = Date().addingTimeInterval(240)
        while !FileManager.default.fileExists(atPath: marker) {
            guard Date() < deadline else { return XCTFail("the pause never came\n\(cluster.logTails())") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try cluster.signal(worker: "w", SIGKILL)
        cluster.workers["w"]?.waitUntilExit()
        unlink(marker)
        try cluster.startWorker("w", arguments: streaming + ["--kernel", second.rawValue], cache: "cache-moved")
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 600), 0, cluster.logTails())

        let moved = try ResultSnapshot(state: cluster.state, ignoring: ["gemm_kernel"])
        XCTAssertEqual(moved.differences(from: reference), [], "\(first) → \(second)")
        // The paths really were used: cells finished after the move record the second one.
        let kernels = try FileManager.default.subpathsOfDirectory(atPath: "\(cluster.state)/runs")
            .filter { $0.hasSuffix("summary.json") }
            .map { path -> String in
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(cluster.state)/runs/\(path)"))
                let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                return object?["gemm_kernel"] as? String ?? "none"
            }
        XCTAssertTrue(kernels.contains(second.rawValue), "\(kernels)")
    }
}
