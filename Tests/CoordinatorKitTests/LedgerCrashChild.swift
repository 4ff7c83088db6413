// LedgerCrashChild: a writer run in a child copy of the test process (to be SIGKILLed), and the parent's handle on it.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// Runs as a test only in the child process (the environment variable names its state directory); elsewhere it
/// is skipped. The child commits metrics one by one and prints `LEDGER-COMMITTED n` after each commit returns.
final class LedgerCrashChild: XCTestCase {
    static let environmentKey = "ABLATE_LEDGER_CRASH_DIR"
    static let marker = "LEDGER-COMMITTED "
    static let cell = LedgerFixtures.cell("c", position: 0)

    func testWriteUntilKilled() throws {
        guard let directory = ProcessInfo.processInfo.environment[Self.environmentKey] else {
            throw XCTSkip("runs only as the child process of LedgerDurabilityTests")
        }
        let ledger = try Ledger(directory: directory)
        try ledger.beginRun(sweepName: "crash", sweepText: "")
        try ledger.addCells([Self.cell])
        var running = LedgerFixtures.running(Self.cell, attempt: 1)
        try ledger.update(running, startingAttempt: LedgerFixtures.attempt(Self.cell, 1))
        let padding = String(repeating: "x", count: 3000)  // grows the WAL past automatic checkpoints
        for seq in 1...100_000 {
            var metrics = LedgerFixtures.metrics(Self.cell, attempt: 1, seq: seq)
            metrics.record = #"{"epoch":\#(seq),"pad":"\#(padding)"}"#
            try ledger.appendMetrics(metrics)
            try ledger.addToCounter("ticks", 1)
            if seq % 7 == 0 {
                running.epochsDone = seq
                try ledger.update(running)
            }
            FileHandle.standardOutput.write(Data("\(Self.marker)\(seq)\n".utf8))
        }
    }

    /// Highest `n` of the `LEDGER-COMMITTED n` lines in `output`; 0 when none.
    static func lastCommitted(in output: String) -> Int {
        output.split(separator: "\n").compactMap { line in
            line.hasPrefix(marker) ? Int(line.dropFirst(marker.count)) : nil
        }.max() ?? 0
    }

    /// Starts this test process again, running only `testWriteUntilKilled` on `directory`.
    static func start(directory: String) throws -> Running {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["CoordinatorKitTests.LedgerCrashChild/testWriteUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[environmentKey] = directory
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return Running(process: process, pipe: pipe)
    }

    /// The parent's handle on a running child.
    struct Running {
        let process: Process
        let pipe: Pipe

        /// Reads the child's output until it reports `commits` commits, then SIGKILLs it; returns everything it
        /// printed and whether the kill was ours (false when it exited on its own or ran past `timeout` seconds).
        func readUntil(commits: Int, timeout: Double) throws -> (output: String, killed: Bool) {
            let pid = process.processIdentifier
            let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
            var output = Data()
            var killed = false
            while true {
                let data = pipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                output.append(data)
                if !killed, LedgerCrashChild.lastCommitted(in: String(decoding: output, as: UTF8.self)) >= commits {
                    kill(pid, SIGKILL)
                    killed = true
                }
            }
            watchdog.cancel()
            process.waitUntilExit()
            let bySignal = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
            return (String(decoding: output, as: UTF8.self), killed && bySignal)
        }
    }
}
