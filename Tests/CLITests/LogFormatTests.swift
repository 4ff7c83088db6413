// LogFormatTests: AblateLogHandler's line and journal forms, journal detection, and `--log-level` on a real `ablate local`.
import AblateLog
import Foundation
import Logging
import TestSupport
import Testing
import XCTest

@Suite("log lines (AblateLogHandler, --log-level)")
struct LogFormatTests {
    /// 2026-12-03T04:05:06.123Z.
    static let date = Date(timeIntervalSince1970: 1_796_270_706.123_4)

    @Test func lineHasTimeLevelLabelMessageAndSortedMetadata() {
        let line = AblateLogHandler.line(
            level: .info, label: "coordinator", message: "listening on tcp://127.0.0.1:5555",
            metadata: ["worker": "w1", "cell": "a/seed-1"], date: Self.date, journal: false)
        #expect(
            line
                == "2026-12-03T04:05:06.123Z info coordinator: listening on tcp://127.0.0.1:5555 cell=a/seed-1 worker=w1"
        )
        let bare = AblateLogHandler.line(
            level: .warning, label: "scheduler", message: "x", metadata: [:], date: Self.date, journal: false)
        #expect(bare == "2026-12-03T04:05:06.123Z warning scheduler: x")
        #expect(AblateLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(AblateLogHandler.timestamp(Date(timeIntervalSince1970: 59.9999)) == "1970-01-01T00:00:59.999Z")
        #expect(
            AblateLogHandler.timestamp(Date()).wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil)
        let broken = AblateLogHandler.line(
            level: .error, label: "report", message: "a\nb", metadata: ["k": "c\nd"], date: Self.date, journal: false)
        #expect(broken == "2026-12-03T04:05:06.123Z error report: a\\nb k=c\\nd", "one record, one line")
    }

    @Test func journalFormHasThePriorityAndNoTime() {
        let line = AblateLogHandler.line(
            level: .error, label: "worker", message: "cannot store x", metadata: ["k": "v"], date: Self.date,
            journal: true)
        #expect(line == "<3>error worker: cannot store x k=v")
        let priorities = Logger.Level.allCases.map { AblateLogHandler.syslogPriority($0) }
        #expect(priorities == [7, 7, 6, 5, 4, 3, 2], "trace debug info notice warning error critical")
    }

    /// Records through a Logger: filtered by level, one line each, written at once; the journal form when asked.
    @Test func handlerWritesOneLinePerRecordAtItsLevel() throws {
        let directory = TemporaryDirectory()
        for journal in [false, true] {
            let path = directory.file("log-\(journal)")
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            let output = LogOutput(descriptor: handle.fileDescriptor, journal: journal)
            var logger = Logger(label: "trainer") {
                AblateLogHandler(label: $0, level: .info, output: output, clock: { Self.date })
            }
            logger.debug("hidden")
            logger.info("epoch 1/2")
            logger[metadataKey: "cell"] = "a/seed-1"
            logger.warning("diverged", metadata: ["epoch": "2"])
            try handle.close()
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            let expected =
                journal
                ? ["<6>info trainer: epoch 1/2", "<4>warning trainer: diverged cell=a/seed-1 epoch=2"]
                : [
                    "2026-12-03T04:05:06.123Z info trainer: epoch 1/2",
                    "2026-12-03T04:05:06.123Z warning trainer: diverged cell=a/seed-1 epoch=2",
                ]
            #expect(lines == expected)
        }
    }

    /// `JOURNAL_STREAM` names the journal's stream by device and inode: only a descriptor on that very file matches.
    @Test func journalIsDetectedByDeviceAndInode() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("stream")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        var info = stat()
        #expect(fstat(handle.fileDescriptor, &info) == 0)
        let fd = handle.fileDescriptor
        #expect(LogOutput.isJournal(descriptor: fd, environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"]))
        #expect(
            !LogOutput.isJournal(descriptor: fd, environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"]))
        #expect(!LogOutput.isJournal(descriptor: fd, environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!LogOutput.isJournal(descriptor: fd, environment: [:]))
        #expect(LogOutput(descriptor: fd, journal: true).isJournal)
    }

    /// A file output is opened (its directory created) at the first line, and appends; bare messages when asked.
    @Test func fileOutputOpensAtTheFirstLine() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("logs/coordinator.log")
        let output = LogOutput(appendingTo: path)
        #expect(!FileManager.default.fileExists(atPath: directory.file("logs")))
        output.write("one")
        AblateLogging.logger("trainer", to: output, messageOnly: true).info("two")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\n")
    }
}

/// `--log-level` on a real `ablate local`. XCTest, like the other end-to-end tests: processes spawned from Swift
/// Testing's threads inherit their blocked signal mask, so the workers `ablate local` starts could not be stopped.
final class LogLevelOptionTests: XCTestCase {
    /// `ablate local` resuming a finished sweep (about a second): at the default level its start line is an info line
    /// with the time; `--log-level warning` hides it and changes nothing else it prints; a bad level is one error.
    func testLogLevelWarningHidesInfoLines() throws {
        let directory = TemporaryDirectory()
        func run(_ name: String, _ extra: String) throws -> (status: Int32, stdout: String, stderr: String) {
            let copy = directory.file(name)
            try FileManager.default.copyItem(atPath: ReleaseStateResumeTests.fixture, toPath: copy)
            return try Subprocess.capture(
                "/bin/sh",
                [
                    "-c", "cd \"$0\" && exec \"$1\" local --sweep sweep.yaml --state state \(extra)", copy,
                    AblateBinary.path,
                ])
        }
        let plain = try run("info", "")
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let start = plain.stdout.split(separator: "\n").first {
            $0.contains("sweep resume-fixture: 4 cells (0 new, 4 done)")
        }
        let line = try XCTUnwrap(start.map(String.init), plain.stdout)
        XCTAssertNotNil(
            line.wholeMatch(
                of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info coordinator: sweep resume-fixture: .*/#), line)
        let coordinatorLog = try String(
            contentsOfFile: directory.file("info/state/logs/coordinator.log"), encoding: .utf8)
        XCTAssertTrue(
            coordinatorLog.split(separator: "\n").contains {
                $0.contains(" info coordinator: listening on tcp://127.0.0.1:")
            },
            coordinatorLog)

        let quiet = try run("warning", "--log-level warning")
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertFalse(quiet.stdout.contains("sweep resume-fixture: 4 cells"), quiet.stdout)
        XCTAssertFalse(quiet.stdout.contains(" info "), quiet.stdout)
        XCTAssertTrue(quiet.stdout.contains("results: "), "the command's own output stays: \(quiet.stdout)")
        let quietLog =
            (try? String(contentsOfFile: directory.file("warning/state/logs/coordinator.log"), encoding: .utf8)) ?? ""
        XCTAssertFalse(quietLog.contains("listening on"), quietLog)

        let bad = try AblateBinary.run([
            "coordinator", "--sweep", "x.yaml", "--state", directory.file("s"), "--bind", "ipc:///tmp/x",
            "--log-level", "loud",
        ])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--log-level"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("s")))
    }
}
