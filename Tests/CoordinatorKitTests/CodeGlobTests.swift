// CodeGlobTests: `*`, `?` and `**` matching and expansion (sorted, deduplicated, hidden names and links) of `code:` globs.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class CodeGlobTests: XCTestCase {
    func testOneComponentMatching() {
        XCTAssertTrue(CodeGlob.matches("*.py", "train.py"))
        XCTAssertTrue(CodeGlob.matches("*.py", ".py.py") == false, "a leading dot needs a pattern with one")
        XCTAssertTrue(CodeGlob.matches(".*", ".env"))
        XCTAssertFalse(CodeGlob.matches("*.py", "train.pyc"))
        XCTAssertTrue(CodeGlob.matches("t?ain.py", "train.py"))
        XCTAssertFalse(CodeGlob.matches("t?ain.py", "trrain.py"))
        XCTAssertTrue(CodeGlob.matches("*a*b*", "xxaYYbzz"))
        XCTAssertTrue(CodeGlob.matches("*a*b", "aab"))
        XCTAssertFalse(CodeGlob.matches("*a*b", "aabc"))
        XCTAssertTrue(CodeGlob.matches("*", "x"))
        XCTAssertTrue(CodeGlob.matches("**", "x"))
        XCTAssertFalse(CodeGlob.matches("?", ""))
        XCTAssertTrue(CodeGlob.matches("[ab].py", "[ab].py"), "brackets are literal")
        XCTAssertFalse(CodeGlob.matches("[ab].py", "a.py"))
    }

    func testExpansionIsSortedDeduplicatedAndWalksDirectories() throws {
        let directory = TemporaryDirectory()
        for name in [
            "train.py", "b.py", "a.py", "notes.txt", "src/z.py", "src/m/n.py", "src/m/o.txt", "src/.hidden/h.py",
            ".top.py", "src/m/deep/er/x.py",
        ] {
            directory.write(name, text: name)
        }
        let base = directory.path
        XCTAssertEqual(
            try CodeGlob.expand("*.py", base: base, limit: 100), ["\(base)/a.py", "\(base)/b.py", "\(base)/train.py"])
        XCTAssertEqual(
            try CodeGlob.expand("src/**/*.py", base: base, limit: 100),
            ["\(base)/src/m/deep/er/x.py", "\(base)/src/m/n.py", "\(base)/src/z.py"],
            "** matches zero or more directories, but no hidden one")
        XCTAssertEqual(
            try CodeGlob.expand("**/n.py", base: base, limit: 100), ["\(base)/src/m/n.py"])
        XCTAssertEqual(
            try CodeGlob.expand("src/m/**", base: base, limit: 100),
            ["\(base)/src/m/deep/er/x.py", "\(base)/src/m/n.py", "\(base)/src/m/o.txt"], "a last ** takes every file")
        XCTAssertEqual(
            try CodeGlob.expand("./src/./m/*", base: base, limit: 100), ["\(base)/src/m/n.py", "\(base)/src/m/o.txt"],
            "directories are not matched, only files")
        XCTAssertEqual(try CodeGlob.expand("src/m/../*.py", base: base, limit: 100), ["\(base)/src/z.py"])
        XCTAssertEqual(try CodeGlob.expand(".*.py", base: base, limit: 100), ["\(base)/.top.py"])
        XCTAssertEqual(
            try CodeGlob.expand("\(base)/?.py", base: "/nonexistent", limit: 100), ["\(base)/a.py", "\(base)/b.py"])
        XCTAssertEqual(try CodeGlob.expand("nothing/*.py", base: base, limit: 100), [])
    }

    func testLinksAreFollowedToFilesButNotIntoDirectories() throws {
        let directory = TemporaryDirectory()
        directory.write("real/a.py", text: "a")
        directory.write("lib/b.py", text: "b")
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("lib/link.py"), withDestinationPath: directory.file("real/a.py"))
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("lib/loop"), withDestinationPath: directory.file("lib"))
        let found = try CodeGlob.expand("lib/**/*.py", base: directory.path, limit: 100)
        XCTAssertEqual(found, [directory.file("lib/b.py"), directory.file("lib/link.py")], "the link's own path")
    }

    func testNormalizedRemovesDotsLexically() {
        XCTAssertEqual(CodeGlob.normalized("/a/./b/../c"), "/a/c")
        XCTAssertEqual(CodeGlob.normalized("/../x"), "/x")
        XCTAssertEqual(CodeGlob.normalized("/"), "/")
    }
}
