// CodeGitTests: the commit and dirty flag of code in a temporary git repository; none outside one (skipped without git).
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class CodeGitTests: XCTestCase {
    /// Runs git in `directory`; throws XCTSkip when git is not installed.
    @discardableResult
    func git(_ arguments: [String], in directory: String) throws -> String {
        let result = try Subprocess.capture(
            "/usr/bin/env",
            ["git", "-C", directory, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
                + arguments)
        if result.status == 127 { throw XCTSkip("git is not installed") }
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testCommitAndDirtyFlagOfTheCodeFiles() throws {
        let directory = TemporaryDirectory()
        try git(["init", "-q"], in: directory.path)
        directory.write("train.py", text: "print(1)\n")
        directory.write("other.py", text: "x\n")
        let train = directory.file("train.py")
        let before = CodeGit.provenance(directory: directory.path, files: [train])
        XCTAssertNil(before.commit, "no commit yet")
        try git(["add", "train.py", "other.py"], in: directory.path)
        try git(["commit", "-q", "-m", "one"], in: directory.path)
        let head = try git(["rev-parse", "HEAD"], in: directory.path)
        let clean = CodeGit.provenance(directory: directory.path, files: [train])
        XCTAssertEqual(clean.commit, head)
        XCTAssertEqual(clean.dirty, false)

        directory.write("other.py", text: "y\n")
        XCTAssertEqual(
            CodeGit.provenance(directory: directory.path, files: [train]).dirty, false, "only the code files count")
        directory.write("train.py", text: "print(2)\n")
        let edited = CodeGit.provenance(directory: directory.path, files: [train])
        XCTAssertEqual(edited.commit, head)
        XCTAssertEqual(edited.dirty, true)
        directory.write("new.py", text: "z\n")
        XCTAssertEqual(
            CodeGit.provenance(directory: directory.path, files: [directory.file("new.py")]).dirty, true,
            "an untracked code file is dirty")
    }

    func testOutsideAWorkTreeThereIsNothing() throws {
        let directory = TemporaryDirectory()
        _ = try git(["--version"], in: directory.path)
        directory.write("train.py", text: "1")
        // A temporary directory may sit inside a work tree only if the system's is one; ask git.
        let inside = try Subprocess.capture(
            "/usr/bin/env", ["git", "-C", directory.path, "rev-parse", "--is-inside-work-tree"])
        try XCTSkipIf(inside.status == 0, "the temporary directory is inside a git work tree")
        let facts = CodeGit.provenance(directory: directory.path, files: [directory.file("train.py")])
        XCTAssertNil(facts.commit)
        XCTAssertNil(facts.dirty)
    }

    func testWithoutGitThereIsNothing() throws {
        let directory = TemporaryDirectory()
        try git(["init", "-q"], in: directory.path)
        directory.write("train.py", text: "1")
        try git(["add", "train.py"], in: directory.path)
        try git(["commit", "-q", "-m", "one"], in: directory.path)
        XCTAssertNotNil(CodeGit.provenance(directory: directory.path, files: [directory.file("train.py")]).commit)
        let facts = CodeGit.provenance(
            directory: directory.path, files: [directory.file("train.py")], program: "ablate-no-such-git")
        XCTAssertNil(facts.commit, "a missing git program is no commit, not an error")
        XCTAssertNil(facts.dirty)
    }
}
