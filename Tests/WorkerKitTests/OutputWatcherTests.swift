// OutputWatcherTests: a command's output directory — metrics lines (partial, blank, bad) and file completeness.
import Foundation
import RunSpec
import TestSupport
import WireProtocol
import WorkerKit
import XCTest

/// Checks OutputWatcher, CommandOutput, CommandSummary and the placeholder syntax against
/// docs/bring-your-own-trainer.md.
final class OutputWatcherTests: XCTestCase {
    private func append(_ directory: TemporaryDirectory, _ name: String, _ text: String) throws {
        let path = directory.file(name)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    func testPartialLinesWaitForTheirNewlineAndSeqIsTheLineNumber() throws {
        let directory = TemporaryDirectory()
        var watcher = OutputWatcher(directory: directory.path)
        XCTAssertEqual(try watcher.poll(final: false).metrics, [], "no metrics.jsonl yet")
        try append(
            directory, "metrics.jsonl",
            #"{"epoch": 1, "val_macro_f1": 0.5, "val_loss": 1.5, "extra": 3}"# + "\n" + #"{"epoch":2,"val_"#)
        let first = try watcher.poll(final: false).metrics
        XCTAssertEqual(first.map(\.line), [1])
        XCTAssertEqual(first.first?.epoch, 1)
        XCTAssertEqual(try XCTUnwrap(first.first?.valMacroF1), 0.5, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(first.first?.valLoss), 1.5, accuracy: 1e-12)
        XCTAssertTrue(try XCTUnwrap(first.first?.trainLoss).isNaN, "absent keys are NaN")
        XCTAssertEqual(
            first.first?.record, #"{"epoch": 1, "val_macro_f1": 0.5, "val_loss": 1.5, "extra": 3}"#, "kept verbatim")
        XCTAssertEqual(try watcher.poll(final: false).metrics, [], "half a line is not a line")
        try append(directory, "metrics.jsonl", "macro_f1\":0.75}\n\n" + #"{"epoch":3,"val_macro_f1":0.8}"#)
        let second = try watcher.poll(final: false).metrics
        XCTAssertEqual(second.map(\.line), [2])
        XCTAssertEqual(try XCTUnwrap(second.first?.valMacroF1), 0.75, accuracy: 1e-12)
        let last = try watcher.poll(final: true).metrics
        XCTAssertEqual(last.map(\.line), [4], "the blank line 3 is counted; an unterminated last line counts at exit")
        XCTAssertEqual(last.map(\.epoch), [3])
    }

    func testABadLineFailsWithItsLineNumber() throws {
        let cases: [(String, String)] = [
            (#"{"epoch": 2}"#, "metrics.jsonl line 2: missing 'val_macro_f1'"),
            (#"{"epoch": 2.5, "val_macro_f1": 0.1}"#, "metrics.jsonl line 2: 'epoch' is not an integer"),
            (#"{"epoch": 2, "val_macro_f1": "high"}"#, "metrics.jsonl line 2: 'val_macro_f1' is not a number"),
            (#"[1, 2]"#, "metrics.jsonl line 2: not a JSON object"),
            (
                #"{"epoch": 2, "val_macro_f1": NaN}"#,
                "metrics.jsonl line 2: not valid JSON (values must be finite numbers)"
            ),
        ]
        for (bad, message) in cases {
            let directory = TemporaryDirectory()
            try append(directory, "metrics.jsonl", #"{"epoch":1,"val_macro_f1":0.5}"# + "\n" + bad + "\n")
            var watcher = OutputWatcher(directory: directory.path)
            XCTAssertThrowsError(try watcher.poll(final: false), bad) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    /// Under another sweep metric a line needs that key (a finite number, not a boolean), not val_macro_f1.
    func testLinesNeedTheSweepsMetricInsteadOfMacroF1() throws {
        let line = try OutputWatcher.parse(#"{"epoch": 2, "val_rmse": 3.5}"#, line: 4, metric: "val_rmse")
        XCTAssertEqual(line.epoch, 2)
        XCTAssertTrue(line.valMacroF1.isNaN)
        for (text, problem) in [
            (#"{"epoch": 2, "val_macro_f1": 0.5}"#, "missing 'val_rmse' (the sweep's metric)"),
            (#"{"epoch": 2, "val_rmse": true}"#, "'val_rmse' is not a number"),
            (#"{"epoch": 2, "val_rmse": "3"}"#, "'val_rmse' is not a number"),
        ] {
            XCTAssertThrowsError(try OutputWatcher.parse(text, line: 4, metric: "val_rmse")) { error in
                XCTAssertEqual("\(error)", "metrics.jsonl line 4: \(problem)")
            }
        }
        XCTAssertThrowsError(try OutputWatcher.parse(#"{"epoch": 2, "val_rmse": 3.5}"#, line: 1)) { error in
            XCTAssertEqual("\(error)", "metrics.jsonl line 1: missing 'val_macro_f1'", "the default still needs it")
        }
    }

    func testAFileIsCompleteWhenUnchangedAcrossTwoPollsAndAgainAfterEachChange() throws {
        let directory = TemporaryDirectory()
        var watcher = OutputWatcher(directory: directory.path)
        directory.write("last.h5", text: "epoch 1")
        directory.write("notes.txt", text: "not a checkpoint")
        directory.write(".last.h5.partial.h5", text: "hidden")
        directory.write("ckpt/model.pt", text: "weights")
        XCTAssertEqual(try watcher.poll(final: false).files, [], "first sight: maybe still being written")
        let complete = try watcher.poll(final: false).files
        XCTAssertEqual(complete.map(\.relativePath), ["ckpt/model.pt", "last.h5"])
        XCTAssertEqual(complete.map(\.name), ["model.pt", "last.h5"])
        XCTAssertEqual(try watcher.poll(final: false).files, [], "each version is forwarded once")
        directory.write("last.h5", text: "epoch 2, longer")
        XCTAssertEqual(try watcher.poll(final: false).files, [])
        XCTAssertEqual(
            try watcher.poll(final: false).files.map(\.name), ["last.h5"], "a new version is forwarded again")
        directory.write("best.h5", text: "best")
        XCTAssertEqual(try watcher.poll(final: true).files.map(\.name), ["best.h5"], "at exit every file is complete")
    }

    func testCommandOutputKeepsATailAndBatchesAtMostOncePerInterval() throws {
        let directory = TemporaryDirectory()
        var output = CommandOutput(path: directory.file("log.txt"))
        output.maxBatch = 5
        try append(directory, "log.txt", (1...30).map { "line \($0)" }.joined(separator: "\n") + "\npartial")
        output.read()
        XCTAssertEqual(output.tail.count, 20)
        XCTAssertEqual(output.tail.last, "line 30")
        XCTAssertEqual(
            output.takeBatch(now: 0),
            ["[26 earlier lines not forwarded; see the worker's log]"] + (27...30).map { "line \($0)" },
            "the note counts as one of the batch's lines")
        try append(directory, "log.txt", "\n")
        output.read()
        XCTAssertNil(output.takeBatch(now: 0.5), "within the interval")
        XCTAssertEqual(output.takeBatch(now: 1.0), ["partial"])
        XCTAssertTrue(output.tailText.hasSuffix("line 30\npartial"))
        output.maxBatchBytes = 90
        let lines = ["0", "a", "k"].map { String(repeating: $0, count: 30) }
        try append(directory, "log.txt", lines.joined(separator: "\n") + "\n")
        output.read()
        // Two lines (62 bytes) fit but leave no room for the note (54): the batch is the note and the newest line.
        XCTAssertEqual(
            output.takeBatch(now: 5), ["[2 earlier lines not forwarded; see the worker's log]", lines[2]],
            "a batch keeps the newest lines that fit its byte limit, the note included")
    }

    func testCommandOutputBatchesStayWithinTheProtocolLimits() throws {
        let directory = TemporaryDirectory()
        var output = CommandOutput(path: directory.file("log.txt"))
        // Invalid UTF-8 decodes to 3-byte replacement characters; a line must still fit 4 KiB once decoded.
        let binary = [UInt8](repeating: 0xFF, count: 5000) + [0x0A]
        let long = Array(String(repeating: "é", count: 3000).utf8) + [0x0A]
        let many = Array((1...700).map { "line \($0)" }.joined(separator: "\n").utf8) + [0x0A]
        _ = FileManager.default.createFile(atPath: directory.file("log.txt"), contents: Data(binary + long + many))
        output.read()
        let lines = try XCTUnwrap(output.takeBatch(now: 0))
        XCTAssertLessThanOrEqual(lines.count, FieldLimits.maxLogLines)
        XCTAssertLessThanOrEqual(lines.map(\.utf8.count).max() ?? 0, FieldLimits.maxLogLineBytes)
        XCTAssertLessThanOrEqual(FieldLimits.logBytes(lines), FieldLimits.maxLogBytes)
        XCTAssertNoThrow(
            try MessageCodec.decode(
                MessageCodec.encode(.log(LogLines(cell: String(repeating: "ab", count: 32), attempt: 1, lines: lines))))
        )
        XCTAssertEqual(lines.last, "line 700")
    }

    func testCommandSummaryIsReadableAsADigest() throws {
        let lines = [(1, 0.4), (2, 0.7), (3, 0.7), (4, 0.6)].enumerated().map { index, pair in
            MetricsLine(
                line: index + 1, epoch: pair.0, valMacroF1: pair.1, valLoss: .nan, trainLoss: .nan, seconds: 0,
                record: #"{"epoch":\#(pair.0),"val_macro_f1":\#(pair.1)}"#)
        }
        let json = try XCTUnwrap(CommandSummary.json(lines: lines, command: ["python3", "t.py"], seconds: 12))
        let digest = try SummaryDigest.fromJSON(json)
        XCTAssertEqual(digest.status.rawValue, "completed")
        XCTAssertEqual(digest.epochsRun, 4)
        XCTAssertEqual(digest.bestEpoch, 2, "the earliest of equal bests")
        XCTAssertEqual(try XCTUnwrap(digest.bestMacroF1), 0.7, accuracy: 1e-12)
        XCTAssertTrue(json.contains(#""best_record":{"epoch":2,"val_macro_f1":0.7}"#), json)
        XCTAssertTrue(json.contains(#""last_record":{"epoch":4,"val_macro_f1":0.6}"#), json)
        XCTAssertNil(CommandSummary.json(lines: [], command: ["x"], seconds: 1))
    }

    func testPlaceholdersAreBracedNamesOnly() {
        let values = ["seed": "7", "out": "/o"]
        XCTAssertEqual(CommandPlaceholderText.substitute("--seed={seed}", { values[$0] }), "--seed=7")
        XCTAssertEqual(CommandPlaceholderText.substitute("{out}/{missing}", { values[$0] }), "/o/{missing}")
        XCTAssertEqual(CommandPlaceholderText.substitute(#"{"a": 1} {1x} {"#, { values[$0] }), #"{"a": 1} {1x} {"#)
        XCTAssertEqual(CommandPlaceholderText.names(in: "{seed}-{variant}{gpu}"), ["seed", "variant", "gpu"])
    }

    func testTerminatingAGroupEndsItsChildrenToo() throws {
        let directory = TemporaryDirectory()
        let pidFile = directory.file("child.pid")
        let pid = try ProcessGroup.spawn(
            ["/bin/sh", "-c", "sleep 1000 & echo $! > \(pidFile); wait"], environment: [:],
            output: directory.file("out.txt"))
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: pidFile) && Date() < deadline { usleep(20_000) }
        let child = try XCTUnwrap(
            pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(ProcessGroup.members(of: pid).sorted(), [pid, child].sorted())
        let status = ProcessGroup.terminate(group: pid, leader: pid, grace: 5)
        XCTAssertEqual(status, .signaled(SIGTERM))
        XCTAssertFalse(ProcessGroup.groupExists(pid))
        XCTAssertNotEqual(ProcessGroup.processState(child)?.code ?? "Z", "S", "the background child is gone")
        XCTAssertThrowsError(try ProcessGroup.spawn(["/nonexistent/trainer"], environment: [:], output: nil)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot start /nonexistent/trainer"), "\(error)")
        }
    }
}
