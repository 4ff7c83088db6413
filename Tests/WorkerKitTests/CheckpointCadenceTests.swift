import XCTest

// CheckpointCadenceTests: which epochs' files a training job streams, on a manual clock.
@testable import WorkerKit

final class CheckpointCadenceTests: XCTestCase {
    /// The first epoch's files go at once; later ones wait until the interval has passed since files last went,
    /// and then carry every file rewritten meanwhile (once each); the run's last epoch always sends what is
    /// unsent.
    func testFirstEpochThenEveryIntervalThenTheLast() {
        var cadence = CheckpointCadence(interval: 10)
        XCTAssertEqual(
            cadence.filesToSend(after: 1, wrote: ["last.h5", "best.h5", "predictions.h5"], finished: false, now: 0.5),
            ["last.h5", "best.h5", "predictions.h5"])
        XCTAssertEqual(
            cadence.filesToSend(after: 2, wrote: ["last.h5", "best.h5", "predictions.h5"], finished: false, now: 3), [])
        XCTAssertEqual(cadence.filesToSend(after: 3, wrote: ["last.h5"], finished: false, now: 6), [])
        XCTAssertEqual(
            cadence.filesToSend(after: 4, wrote: ["last.h5"], finished: false, now: 10.5),
            ["last.h5", "best.h5", "predictions.h5"],
            "best.h5 of epoch 2 goes with epoch 4's last.h5, whose run directory holds it")
        XCTAssertEqual(cadence.filesToSend(after: 5, wrote: ["last.h5"], finished: false, now: 12), [])
        XCTAssertEqual(
            cadence.filesToSend(after: 6, wrote: ["last.h5"], finished: true, now: 13), ["last.h5"],
            "the last epoch always sends")
        XCTAssertEqual(cadence.flush().names, [], "nothing is left")
    }

    /// Stopped early, the files written since the last sent ones are handed over with their epoch (the resume
    /// point); a second flush has nothing.
    func testFlushGivesTheUnsentFilesOfTheLastCompletedEpoch() {
        var cadence = CheckpointCadence(interval: 60)
        _ = cadence.filesToSend(after: 1, wrote: ["last.h5", "best.h5"], finished: false, now: 0)
        _ = cadence.filesToSend(after: 2, wrote: ["last.h5"], finished: false, now: 1)
        _ = cadence.filesToSend(after: 3, wrote: ["last.h5", "best.h5"], finished: false, now: 2)
        let flushed = cadence.flush()
        XCTAssertEqual(flushed.names, ["last.h5", "best.h5"])
        XCTAssertEqual(flushed.epoch, 3)
        XCTAssertEqual(cadence.flush().names, [])
    }

    /// An interval of 0 (or a negative one, clamped) sends every epoch's files, as before the cadence existed.
    func testZeroIntervalSendsEveryEpoch() {
        for interval in [0.0, -5] {
            var cadence = CheckpointCadence(interval: interval)
            for epoch in 1...4 {
                XCTAssertEqual(
                    cadence.filesToSend(after: epoch, wrote: ["last.h5"], finished: false, now: 1), ["last.h5"],
                    "epoch \(epoch)")
            }
        }
    }
}
