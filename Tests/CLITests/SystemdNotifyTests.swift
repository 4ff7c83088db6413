// SystemdNotifyTests: the real binary's sd_notify datagrams (READY, STATUS, WATCHDOG, STOPPING) on a socket the test owns.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// An AF_UNIX datagram socket standing in for systemd's notify socket; collects datagrams with arrival times.
final class NotifyListener: @unchecked Sendable {
    /// The value for `NOTIFY_SOCKET` (`@name` for the abstract namespace).
    let address: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [(time: Date, text: String)] = []
    private var open = true

    init(path: String? = nil, abstractName: String? = nil) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no AF_UNIX datagram sockets here") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if let abstractName {
            bytes = [0] + Array(abstractName.utf8)
            self.address = "@" + abstractName
        } else {
            let path = path ?? ""
            bytes = Array(path.utf8) + [0]
            self.address = path
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count - (abstractName == nil ? 1 : 0))
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw XCTSkip("cannot bind a notify socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in collect() }
        thread.start()
    }

    deinit { Glibc.close(fd) }

    func close() {
        lock.withLock { open = false }
    }

    private func collect() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while lock.withLock({ open }) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let text = String(decoding: buffer[..<count], as: UTF8.self)
                lock.withLock { received.append((Date(), text)) }
            }
        }
    }

    /// Datagrams so far.
    var datagrams: [(time: Date, text: String)] { lock.withLock { received } }

    /// Times of datagrams that hold the line `line`.
    func times(of line: String) -> [Date] {
        datagrams.filter { $0.text.split(separator: "\n").contains(Substring(line)) }.map(\.time)
    }
}

/// Runs `ablate coordinator` and `ablate worker` with NOTIFY_SOCKET/WATCHDOG_USEC set and checks what they send.
final class SystemdNotifyTests: XCTestCase {
    func testCoordinatorAndWorkerSendReadyStatusWatchdogAndStopping() throws {
        let directory = TemporaryDirectory()
        let dataset = try LocalCluster.dataset(in: directory)
        directory.write(
            "sweep.yaml",
            text: """
                name: notify
                dataset: \(dataset)
                stage1: {epochs: 1, width: 16, seed: 42, max_train_rows: 600, max_val_rows: 200}
                baseline: a
                seeds: [1]
                train: {width: 16, epochs: 300, max_train_rows: 600, max_val_rows: 200}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}

                """)
        let coordinatorSocket = try NotifyListener(path: directory.file("notify.sock"))
        let workerSocket = try NotifyListener(abstractName: "ablate-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer {
            coordinatorSocket.close()
            workerSocket.close()
        }
        let processes = ServiceProcesses(directory: directory)
        defer { processes.stopAll() }
        let endpoint = "ipc://\(directory.file("c.sock"))"
        try processes.start(
            "coordinator",
            [
                "coordinator", "--sweep", directory.file("sweep.yaml"), "--state", directory.file("state"),
                "--bind", endpoint, "--heartbeat-ms", "200", "--keep-serving",
            ],
            environment: ["NOTIFY_SOCKET": coordinatorSocket.address, "WATCHDOG_USEC": "1000000"])
        try processes.wait("READY=1 from the coordinator", timeout: 60) {
            !coordinatorSocket.times(of: "READY=1").isEmpty
        }
        try processes.start(
            "worker",
            [
                "worker", "--connect", endpoint, "--work-dir", directory.file("work"), "--name", "w",
                "--stop-timeout", "10",
            ],
            environment: ["NOTIFY_SOCKET": workerSocket.address, "WATCHDOG_USEC": "2000000"])
        try processes.wait("READY=1 from the worker", timeout: 30) { !workerSocket.times(of: "READY=1").isEmpty }
        try processes.wait("the worker's STATUS naming its job past its first epoch", timeout: 90) {
            workerSocket.datagrams.contains {
                $0.text.range(of: "STATUS=connected; running a/seed-1 epoch [1-9]", options: .regularExpression) != nil
            }
        }
        Thread.sleep(forTimeInterval: 4)

        // Watchdog: WATCHDOG_USEC/2 apart (0.5 s for the coordinator, 1 s for the worker), from the event loops. The
        // intervals leave room for a CI machine's stalls (a checkpoint's fsync, a busy second core) while still
        // telling event-loop pings from per-epoch ones.
        for (socket, interval) in [(coordinatorSocket, 0.5), (workerSocket, 1.0)] {
            let pings = socket.times(of: "WATCHDOG=1")
            XCTAssertGreaterThanOrEqual(pings.count, 4, "watchdog pings: \(pings.count)")
            let gaps = zip(pings.dropFirst(), pings).map { $0.timeIntervalSince($1) }.sorted()
            let median = gaps.isEmpty ? 0 : gaps[gaps.count / 2]
            XCTAssertEqual(median, interval, accuracy: interval * 0.5, "median watchdog interval (gaps \(gaps))")
            XCTAssertLessThan(gaps.last ?? 0, interval * 3, "no long silence in the watchdog")
        }
        XCTAssertTrue(
            coordinatorSocket.datagrams.contains { $0.text.contains("cells done, 1 running") },
            coordinatorSocket.datagrams.map(\.text).joined(separator: " | "))

        // SIGTERM: the worker releases its cell and says STOPPING=1; so does the coordinator, which exits 0.
        try processes.signal("worker", SIGTERM)
        XCTAssertEqual(try processes.waitForExit("worker", timeout: 20), 0, processes.tails())
        XCTAssertFalse(workerSocket.times(of: "STOPPING=1").isEmpty)
        try processes.waitForLog("coordinator", containing: "released by its worker", timeout: 10)
        try processes.signal("coordinator", SIGTERM)
        XCTAssertEqual(try processes.waitForExit("coordinator", timeout: 20), 0, processes.tails())
        let stopping = coordinatorSocket.times(of: "STOPPING=1")
        XCTAssertEqual(stopping.count, 1)
        let ready = try XCTUnwrap(coordinatorSocket.times(of: "READY=1").first)
        XCTAssertLessThan(ready, try XCTUnwrap(stopping.first))

        let ledger = try Ledger(readingDirectory: directory.file("state"))
        let cell = try XCTUnwrap(try ledger.cells().first { $0.stage == "2" })
        XCTAssertEqual(cell.state, .pending, "the released cell waits for another worker")
        XCTAssertEqual(cell.failures, 0)
        // What the worker had finished before the stop was flushed: the coordinator holds the checkpoint of the
        // epoch it released at, so the next attempt resumes there.
        let workerLog = processes.logText("worker")
        let released = try XCTUnwrap(
            workerLog.split(separator: "\n").first { $0.contains("released at epoch") }, workerLog)
        let epoch = try XCTUnwrap(released.split(separator: " ").last.flatMap { Int($0) })
        XCTAssertGreaterThanOrEqual(epoch, 1)
        XCTAssertEqual(cell.resumeEpoch, epoch, "checkpoint of the last completed epoch is stored centrally")
        XCTAssertEqual(cell.epochsDone, epoch)
        let attempts = try ledger.attempts(cell: cell.id)
        XCTAssertEqual(attempts.map(\.outcome), ["lost"])
        XCTAssertTrue(attempts.first?.reason?.hasPrefix("released by its worker") ?? false, "\(attempts)")
    }
}
