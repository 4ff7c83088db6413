// SchedulerExecutionTests: a command cell's execution settings in ASSIGN, and its resume_file as the cell's resume point.
import CoordinatorKit
import WireProtocol
import XCTest

extension SchedulerTests {
    func testACommandsExecutionSettingsGoInAssignAndItsResumeFileIsTheResumePoint() {
        let execution = CommandExecution(
            env: ["MODE": "fast"], workdir: "/srv/code", resumeFile: "ck/state.pt", checkpoints: ["ckpt-*.bin"])
        let command = CellCommand(argv: ["sh", "t.sh"], timeoutSeconds: nil, execution: execution)
        var held = [Self.dataset.sha256: Self.dataset.size]
        held[Self.stage1.sha256] = Self.stage1.size
        var scheduler = Scheduler(
            settings: CoordinatorSettings(), incarnation: "1", cells: [Self.cell(1), Self.cell(2)], files: [],
            artifacts: held, dataset: Self.dataset, stage1Checkpoint: Self.stage1, now: 0,
            commands: [
                Self.cellID(1): command, Self.cellID(2): CellCommand(argv: ["sh", "u.sh"], timeoutSeconds: nil),
            ])
        let given = assigns(scheduler.handle(hello("w1", slots: 2), from: peerA, now: 0)).map(\.1)
        XCTAssertEqual(given.map(\.env), [["MODE": "fast"], nil])
        XCTAssertEqual(given.map(\.workdir), ["/srv/code", nil])
        XCTAssertEqual(given.map(\.resumeFile), ["ck/state.pt", nil])
        XCTAssertEqual(given.map(\.checkpoints), [["ckpt-*.bin"], nil])
        XCTAssertEqual(scheduler.resumeFileName(of: Self.cellID(1)), "state.pt")
        XCTAssertEqual(scheduler.resumeFileName(of: Self.cellID(2)), "last.h5")

        // Only the file of the resume file's name becomes the resume point: a last.h5 of this cell does not.
        let last = ArtifactRef(name: "last.h5", sha256: String(repeating: "a", count: 64), size: 4)
        let state = ArtifactRef(name: "state.pt", sha256: String(repeating: "b", count: 64), size: 5)
        _ = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 2, file: last, peer: peerA)
        XCTAssertNil(scheduler.cells[Self.cellID(1)]?.resumeSHA256)
        _ = scheduler.fileStored(cell: Self.cellID(1), attempt: 1, epoch: 3, file: state, peer: peerA)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.resumeSHA256, state.sha256)
        XCTAssertEqual(scheduler.cells[Self.cellID(1)]?.resumeEpoch, 3)

        // The attempt is given back (its worker stops): the next one, on w2, resumes from state.pt, under that name.
        _ = scheduler.handle(hello("w2", incarnation: "bb"), from: peerB, now: 0.5)
        let released = scheduler.handle(
            .release(Release(cell: Self.cellID(1), attempt: 1, reason: "stopping")), from: peerA, now: 1)
        let again = assigns(released).map(\.1).first { $0.cell == Self.cellID(1) }
        XCTAssertEqual(again?.attempt, 2)
        XCTAssertEqual(again?.resume, state)
        XCTAssertEqual(again?.resumeFile, "ck/state.pt")
    }
}
