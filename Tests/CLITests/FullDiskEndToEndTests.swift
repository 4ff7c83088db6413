// FullDiskEndToEndTests: the state directory's filesystem (a small tmpfs) fills during a sweep — the coordinator
// pauses and says why, keeps serving, and finishes the sweep by itself once room returns, with no part file left.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Needs root (to mount a tmpfs); skipped with the reason otherwise. The tmpfs is unmounted whatever happens.
final class FullDiskEndToEndTests: XCTestCase {
    /// Writes 1 MiB blocks to `path` until the filesystem refuses one (ENOSPC), then the rest byte-block by block.
    private func fill(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw XCTSkip("cannot create \(path)") }
        defer { close(descriptor) }
        for size in [1 << 20, 4096, 1] {
            let block = [UInt8](repeating: 0xA5, count: size)
            while block.withUnsafeBytes({ write(descriptor, $0.baseAddress, size) }) == size {}
        }
    }

    func testAFullStateDirectoryPausesTheCoordinatorWhichFinishesTheSweepWhenRoomReturns() throws {
        guard getuid() == 0 else {
            throw XCTSkip(
                "the full-disk test mounts a tmpfs as the state directory's filesystem and needs root; skipped")
        }
        let directory = TemporaryDirectory()
        let disk = directory.file("small-disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = try Subprocess.capture("/bin/mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", disk])
        guard mounted.status == 0 else {
            throw XCTSkip(
                "cannot mount a tmpfs here (\(mounted.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); skipped"
            )
        }
        defer { _ = try? Subprocess.capture("/bin/umount", ["-l", disk]) }

        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: fulldisk
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: a
                seeds: [42]
                train: {width: 16, epochs: 2, max_train_rows: 600, max_val_rows: 200}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}

                """)
        let notify = try NotifyListener(path: directory.file("notify.sock"))
        defer { notify.close() }
        let cluster = LocalCluster(directory: directory, name: "full", state: "\(disk)/state")
        defer { cluster.stopAll() }
        // A part file left by an earlier run that no cell can resume (none is running at start): removed at start.
        try FileManager.default.createDirectory(atPath: "\(cluster.state)/incoming", withIntermediateDirectories: true)
        let leftover = "\(cluster.state)/incoming/\(String(repeating: "ab", count: 32)).part"
        XCTAssertTrue(FileManager.default.createFile(atPath: leftover, contents: Data(repeating: 7, count: 1 << 20)))
        try cluster.startCoordinator(
            sweep: directory.file("sweep.yaml"), arguments: ["--min-free-mb", "1"],
            environment: ["NOTIFY_SOCKET": notify.address])
        try cluster.startWorker("a", arguments: ["--checkpoint-interval", "0"])
        func coordinatorLog() -> String {
            (try? String(contentsOfFile: directory.file("coordinator.log"), encoding: .utf8)) ?? ""
        }

        // The disk fills while the stage-1 job trains: its metrics and files meet a full state directory.
        try cluster.wait("the stage-1 job to start", timeout: 30) { cluster.cells().contains { $0.state == .running } }
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover), "an abandoned part file is removed at start")
        XCTAssertTrue(coordinatorLog().contains("removed 1 partial transfer(s)"), cluster.logTails())
        let filler = "\(disk)/filler"
        try fill(filler)
        try cluster.wait("the coordinator to say it is paused", timeout: 60) {
            coordinatorLog().contains("paused: state directory full")
        }
        let status = try AblateBinary.run(["status", "--connect", cluster.endpoint])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("paused: state directory full ("), status.stdout)
        try cluster.wait("systemd's STATUS= to say why", timeout: 10) {
            notify.datagrams.contains {
                $0.text.hasPrefix("STATUS=") && $0.text.contains("; paused: state directory full (")
            }
        }
        Thread.sleep(forTimeInterval: 2)
        let coordinator = try XCTUnwrap(cluster.coordinator)
        XCTAssertTrue(coordinator.isRunning, "the coordinator keeps running on a full disk\n\(cluster.logTails())")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: "\(disk)/state/artifacts"), [],
            "no file was stored while the disk was full")

        // Room returns: the sweep finishes by itself.
        try FileManager.default.removeItem(atPath: filler)
        XCTAssertEqual(try cluster.waitForCoordinator(timeout: 120), 0, cluster.logTails())
        XCTAssertTrue(coordinatorLog().contains("the state directory has room again"), cluster.logTails())
        let cells = cluster.cells()
        XCTAssertEqual(cells.count, 2)
        XCTAssertEqual(cells.filter { $0.state == .done }.count, 2, cluster.logTails())
        for cell in cells {
            let run = "\(cluster.state)/runs/\(cell.variant)/seed-\(cell.seed)"
            for file in ["metrics.jsonl", "summary.json", "best.h5", "last.h5"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(run)/\(file)"), "\(run)/\(file)")
            }
            XCTAssertEqual(
                try cluster.deterministicMetrics(variant: cell.variant, seed: cell.seed).count, cell.epochs,
                "every epoch's metrics stored once")
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: "\(cluster.state)/incoming"), [], "no part file is left"
        )
    }
}
