// CodeRecordTests: the canonical text and hash of a cell's code, its JSON form, and the files and problems of `code:`.
import AblateSupport
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class CodeRecordTests: XCTestCase {
    static let a = String(repeating: "a", count: 64)
    static let b = String(repeating: "b", count: 64)

    func testTheCanonicalTextIsSha256sumsOutputSortedByPath() {
        let record = CodeRecord(files: [
            CodeFile(path: "src/z.py", sha256: Self.a), CodeFile(path: "B.py", sha256: Self.b),
            CodeFile(path: "a.py", sha256: Self.a),
        ])
        let text = "\(Self.b)  B.py\n\(Self.a)  a.py\n\(Self.a)  src/z.py\n"
        XCTAssertEqual(CodeRecord.canonicalText(record.files), text)
        XCTAssertEqual(record.sha256, SHA256Hex.of(Array(text.utf8)))
        XCTAssertEqual(record.identityJSON, "\"\(record.sha256)\"")
        let reordered = CodeRecord(files: record.files.reversed())
        XCTAssertEqual(reordered.sha256, record.sha256, "the order given does not matter")
        let changed = CodeRecord(files: [CodeFile(path: "a.py", sha256: Self.b)] + record.files.dropFirst())
        XCTAssertNotEqual(changed.sha256, record.sha256)
    }

    func testJSONRoundTrip() throws {
        let record = CodeRecord(
            files: [CodeFile(path: "x/y.py", sha256: Self.a)], commit: String(repeating: "c", count: 40), dirty: true)
        XCTAssertEqual(
            record.json,
            #"{"commit":"cccccccccccccccccccccccccccccccccccccccc","dirty":true,"files":[{"path":"x/y.py","sha256":""#
                + Self.a + #""}],"sha256":""# + record.sha256 + #""}"#)
        XCTAssertEqual(CodeRecord(json: record.json), record)
        XCTAssertNil(CodeRecord(json: "{}"))
    }

    /// A command sweep whose variants' `code:` is written at known lines (line 1 is `name`).
    static func sweep(_ variants: String, train: String = "{command: [python3, train.py, \"{seed}\"]}") -> String {
        """
        name: c
        dataset: d.h5
        baseline: a
        seeds: [1]
        train: \(train)
        variants:
        \(variants)
        """
    }

    static func records(_ text: String, in directory: TemporaryDirectory, limits: (Int, Int64) = (100, 1 << 20))
        throws -> [String: CodeRecord]
    {
        let sweep = try Sweep.parse(text: text, sourceName: "code.yaml", workingDirectory: directory.path)
        return try CodeFiles.records(
            for: sweep, sweepDirectory: directory.path, limits: limits, git: { _, _ in (nil, nil) })
    }

    func testCodeListsDefaultsAndReplacement() throws {
        let directory = TemporaryDirectory()
        directory.write("train.py", text: "print(1)\n")
        directory.write("lib/util.py", text: "x = 1\n")
        directory.write("lib/more/deep.py", text: "y = 2\n")
        let text = Self.sweep(
            """
              a: {}
              b: {loss: focal, code: [train.py, "lib/**/*.py", lib/util.py]}
              c: {loss: poly, code: []}
              d: {loss: asymmetric, command: [sh, "{seed}", other.sh]}
              a2: {replica_of: a}
            """)
        let records = try Self.records(text, in: directory)
        let hash = { (path: String) in try SHA256Hex.ofFile(directory.file(path)) }
        XCTAssertEqual(records["a"]?.files, [CodeFile(path: "train.py", sha256: try hash("train.py"))], "the default")
        XCTAssertEqual(records["a2"], records["a"], "a replica has its source's code")
        XCTAssertEqual(
            records["b"]?.files.map(\.path), ["lib/more/deep.py", "lib/util.py", "train.py"],
            "sorted, each file once")
        XCTAssertNil(records["c"], "code: [] turns hashing off")
        XCTAssertNil(records["d"], "no argument names a file under the sweep's directory")
        XCTAssertNil(records["a"]?.commit)
    }

    func testTheDefaultIsTheFirstExistingFileUnderTheSweepsDirectory() {
        let directory = TemporaryDirectory()
        directory.write("train.py", text: "1")
        directory.write("config.yaml", text: "2")
        let root = directory.path
        XCTAssertEqual(
            CodeFiles.defaultFile(["python3", "train.py", "config.yaml"], directory: root), "\(root)/train.py")
        XCTAssertEqual(
            CodeFiles.defaultFile(["python3", "{variant}.py", "\(root)/config.yaml"], directory: root),
            "\(root)/config.yaml", "absolute inside the directory; placeholders skipped")
        XCTAssertNil(CodeFiles.defaultFile(["/bin/sh", "-c", "true"], directory: root), "/bin/sh is outside it")
        XCTAssertNil(CodeFiles.defaultFile(["python3", "."], directory: root), "a directory is no file")
        XCTAssertNil(CodeFiles.defaultFile(["python3", "\(root)/../x/train.py"], directory: "\(root)/sub"))
    }

    func testEveryUnusableCodeEntryIsOneLineAtItsKey() throws {
        let directory = TemporaryDirectory()
        directory.write("train.py", text: "1")
        directory.write("lib/a.py", text: "2")
        let text = Self.sweep(
            """
              a: {code: [missing.py]}
              b: {loss: focal, code: [lib]}
              c: {loss: poly, code: ["nothing/*.py", train.py]}
            """)
        do {
            _ = try Self.records(text, in: directory)
            XCTFail("expected a SweepError")
        } catch let error as SweepError {
            XCTAssertEqual(
                error.description.split(separator: "\n").map(String.init),
                [
                    "code.yaml:7: variants.a.code[0]: \(directory.path)/missing.py: no such file",
                    "code.yaml:8: variants.b.code[0]: \(directory.path)/lib: is a directory; write 'lib/**' to hash the files in it",
                    "code.yaml:9: variants.c.code[0]: 'nothing/*.py' matches no file (relative to \(directory.path))",
                ])
        }
    }

    func testAFileWithALineBreakInItsNameIsRefused() throws {
        let directory = TemporaryDirectory()
        directory.write("lib/a\nb.py", text: "1")
        do {
            _ = try Self.records(Self.sweep("  a: {code: [\"lib/*.py\"]}"), in: directory)
            XCTFail("expected a SweepError")
        } catch let error as SweepError {
            XCTAssertEqual(error.problems.map(\.key), ["variants.a.code"])
            XCTAssertTrue(error.description.hasSuffix("a code file's path must not contain control characters"))
        }
    }

    func testLimitsOnFilesAndBytes() throws {
        let directory = TemporaryDirectory()
        for index in 0..<5 { directory.write("lib/f\(index).py", text: String(repeating: "x", count: 100)) }
        let text = Self.sweep("  a: {code: [\"lib/*.py\"]}")
        XCTAssertEqual(try Self.records(text, in: directory, limits: (5, 500))["a"]?.files.count, 5)
        for limits in [(4, Int64(500)), (5, Int64(499))] {
            do {
                _ = try Self.records(text, in: directory, limits: limits)
                XCTFail("expected a SweepError for \(limits)")
            } catch let error as SweepError {
                XCTAssertEqual(error.problems.count, 1, error.description)
                XCTAssertEqual(error.problems.first?.key, "variants.a.code[0]")
                XCTAssertTrue(error.description.hasPrefix("code.yaml:7: variants.a.code[0]: "), error.description)
            }
        }
    }

    func testBadCodeValuesAndNativeVariantsAreReportedWhenParsing() throws {
        let text = """
            name: c
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            variants:
              a: {command: [sh, run.sh], code: train.py}
              b: {loss: focal, command: [sh, run.sh], code: [ok.py, "", [x]]}
              n: {loss: poly, code: [train.py]}
            """
        let error = try XCTUnwrap(sweepProblems(text))
        XCTAssertEqual(
            error.description.split(separator: "\n").map(String.init),
            [
                "bad.yaml:7: variants.a.code: expected a list, found 'train.py'",
                "bad.yaml:8: variants.b.code[1]: expected a path or glob, found the quoted text \"\"",
                "bad.yaml:8: variants.b.code[2]: expected a path or glob, found a list",
                "bad.yaml:9: variants.n.code: code is hashed for commands only; the native trainer's code is Ablate's own",
            ])
        let inherited = """
            name: c
            dataset: d.h5
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {code: [train.py]}
            variants:
              a: {command: [sh, run.sh]}
              n: {loss: poly}
            """
        XCTAssertEqual(
            try XCTUnwrap(sweepProblems(inherited)).description,
            "bad.yaml:6: train.code: variant 'n' runs the native trainer: code is hashed for commands only;"
                + " the native trainer's code is Ablate's own")
    }
}
