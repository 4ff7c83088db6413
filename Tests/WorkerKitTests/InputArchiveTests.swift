// InputArchiveTests: directory inputs — manifest determinism and rules, archive round trip, read-only materialisation.
import AblateSupport
import Foundation
import TestSupport
import TransferKit
import XCTest

final class InputArchiveTests: XCTestCase {
    private func tree(_ directory: TemporaryDirectory, _ root: String, order: [String]) {
        let files = ["a.txt": "alpha", "sub/b.bin": "beta", "sub/deeper/c": "", "z y.txt": "zed"]
        for name in order { directory.write("\(root)/\(name)", text: files[name] ?? "") }
    }

    func testTheSameTreeHashesTheSameWhateverTheOrderAndAnyChangeChangesIt() throws {
        let directory = TemporaryDirectory()
        tree(directory, "one", order: ["a.txt", "sub/b.bin", "sub/deeper/c", "z y.txt"])
        tree(directory, "two", order: ["z y.txt", "sub/deeper/c", "a.txt", "sub/b.bin"])
        let one = try InputDirectory.manifest(of: directory.file("one"))
        let two = try InputDirectory.manifest(of: directory.file("two"))
        XCTAssertEqual(one.text, two.text)
        XCTAssertEqual(one.sha256, two.sha256)
        XCTAssertEqual(one.entries.map(\.path), ["a.txt", "sub/b.bin", "sub/deeper/c", "z y.txt"])
        XCTAssertTrue(one.text.hasPrefix("ablate-input-manifest 1\n\(SHA256Hex.of(Array("alpha".utf8))) 5 - a.txt\n"))

        directory.write("two/sub/b.bin", text: "betb")
        XCTAssertNotEqual(try InputDirectory.manifest(of: directory.file("two")).sha256, one.sha256, "a changed byte")
        directory.write("two/sub/b.bin", text: "beta")
        XCTAssertEqual(try InputDirectory.manifest(of: directory.file("two")).sha256, one.sha256)
        XCTAssertEqual(rename(directory.file("two/a.txt"), directory.file("two/A.txt")), 0)
        XCTAssertNotEqual(try InputDirectory.manifest(of: directory.file("two")).sha256, one.sha256, "a renamed file")
        XCTAssertEqual(rename(directory.file("two/A.txt"), directory.file("two/a.txt")), 0)
        XCTAssertEqual(chmod(directory.file("two/a.txt"), 0o755), 0)
        let executable = try InputDirectory.manifest(of: directory.file("two"))
        XCTAssertNotEqual(executable.sha256, one.sha256, "the execute bit")
        XCTAssertTrue(executable.text.contains(" x a.txt\n"))
    }

    func testLinksAndOtherKindsAreRefused() throws {
        let directory = TemporaryDirectory()
        directory.write("t/a.txt", text: "a")
        XCTAssertEqual(symlink("a.txt", directory.file("t/inside")), 0)
        XCTAssertThrowsError(try InputDirectory.manifest(of: directory.file("t"))) { error in
            XCTAssertTrue("\(error)".contains("t/inside: is a symbolic link"), "\(error)")
        }
        unlink(directory.file("t/inside"))
        XCTAssertEqual(mkfifo(directory.file("t/fifo"), 0o644), 0)
        XCTAssertThrowsError(try InputDirectory.manifest(of: directory.file("t"))) { error in
            XCTAssertTrue("\(error)".contains("not a regular file or directory"), "\(error)")
        }
    }

    func testManifestRulesRefuseBadPaths() throws {
        let sha = String(repeating: "a", count: 64)
        for path in ["../x", "/abs", "a//b", "a/./b", "a/", "", "tab\there", String(repeating: "p", count: 256)] {
            XCTAssertThrowsError(
                try InputManifest(entries: [InputManifestEntry(path: path, size: 1, executable: false, sha256: sha)]),
                path.debugDescription)
        }
        XCTAssertThrowsError(
            try InputManifest(entries: [
                InputManifestEntry(path: "a", size: 1, executable: false, sha256: sha),
                InputManifestEntry(path: "a/b", size: 1, executable: false, sha256: sha),
            ]))
        XCTAssertThrowsError(
            try InputManifest(entries: [InputManifestEntry(path: "a", size: 1, executable: false, sha256: "ABC")]))
        let many = (0...InputManifest.maximumFiles).map {
            InputManifestEntry(path: "f\($0)", size: 0, executable: false, sha256: sha)
        }
        XCTAssertThrowsError(try InputManifest(entries: many)) { error in
            XCTAssertTrue("\(error)".contains("more than \(InputManifest.maximumFiles)"), "\(error)")
        }
        let text = "ablate-input-manifest 1\n\(sha) 1 - ../escape\n"
        XCTAssertThrowsError(try InputManifest.parse(Array(text.utf8)))
        let unsorted = "ablate-input-manifest 1\n\(sha) 1 - b\n\(sha) 1 - a\n"
        XCTAssertThrowsError(try InputManifest.parse(Array(unsorted.utf8)))
        let good = try InputManifest(entries: [InputManifestEntry(path: "b c", size: 1, executable: true, sha256: sha)])
        XCTAssertEqual(try InputManifest.parse(Array(good.text.utf8)), good)
    }

    func testAnArchiveMaterialisesTheSameTreeReadOnly() throws {
        let directory = TemporaryDirectory()
        tree(directory, "src", order: ["a.txt", "sub/b.bin", "sub/deeper/c", "z y.txt"])
        XCTAssertEqual(chmod(directory.file("src/a.txt"), 0o755), 0)
        let manifest = try InputDirectory.manifest(of: directory.file("src"))
        let ref = try InputArchive.write(
            manifest, of: directory.file("src"), to: directory.file("archive"), name: "input-src")
        XCTAssertEqual(ref.sha256, try SHA256Hex.ofFile(directory.file("archive")))
        let again = try InputArchive.write(
            manifest, of: directory.file("src"), to: directory.file("archive2"), name: "input-src")
        XCTAssertEqual(again.sha256, ref.sha256, "the archive is deterministic")

        let target = directory.file("cache/inputs/\(manifest.sha256)")
        try InputArchive.materialise(archive: directory.file("archive"), sha256: manifest.sha256, at: target)
        XCTAssertEqual(try InputDirectory.manifest(of: target), manifest)
        XCTAssertEqual(try String(contentsOfFile: "\(target)/sub/b.bin", encoding: .utf8), "beta")
        var status = stat()
        XCTAssertEqual(stat("\(target)/a.txt", &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o555)
        XCTAssertEqual(stat("\(target)/sub/b.bin", &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o444)
        XCTAssertEqual(stat("\(target)/sub", &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o555)
        XCTAssertEqual(directory.entries("cache/inputs"), [manifest.sha256], "no part directory is left")
        // A second materialisation finds the complete tree and leaves it.
        try InputArchive.materialise(archive: directory.file("archive"), sha256: manifest.sha256, at: target)

        let other = directory.file("cache/inputs/\(String(repeating: "0", count: 64))")
        XCTAssertThrowsError(
            try InputArchive.materialise(
                archive: directory.file("archive"), sha256: String(repeating: "0", count: 64), at: other))
        XCTAssertFalse(FileManager.default.fileExists(atPath: other))
        InputArchive.removeTree(directory.file("cache"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("cache")))
    }

    func testACorruptArchiveLeavesNothingBehind() throws {
        let directory = TemporaryDirectory()
        tree(directory, "src", order: ["a.txt", "sub/b.bin"])
        let manifest = try InputDirectory.manifest(of: directory.file("src"))
        _ = try InputArchive.write(manifest, of: directory.file("src"), to: directory.file("archive"), name: "x")
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: directory.file("archive")))
        bytes[bytes.count - 1] ^= 1
        directory.write("bad", bytes: Array(bytes))
        let target = directory.file("inputs/\(manifest.sha256)")
        XCTAssertThrowsError(
            try InputArchive.materialise(archive: directory.file("bad"), sha256: manifest.sha256, at: target)
        ) {
            XCTAssertTrue("\($0)".contains("do not match its hash"), "\($0)")
        }
        XCTAssertEqual(directory.entries("inputs"), [], "the part directory is removed")
    }

    func testAnArchiveFromThePeerNeverWritesOutsideItsDirectory() throws {
        let directory = TemporaryDirectory()
        let payload = Array("evil".utf8)
        for path in ["../evil", "/tmp/evil", "a/../../evil", "ok/./x"] {
            let manifest = "ablate-input-manifest 1\n\(SHA256Hex.of(payload)) 4 - \(path)\n"
            directory.write("crafted", bytes: Array((manifest + "\n").utf8) + payload)
            let sha = SHA256Hex.of(Array(manifest.utf8))
            let target = directory.file("cache/inputs/\(sha)")
            XCTAssertThrowsError(
                try InputArchive.materialise(archive: directory.file("crafted"), sha256: sha, at: target), path)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("cache/evil")), path)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("evil")), path)
            XCTAssertEqual(directory.entries("cache/inputs"), [], path)
        }
    }

    func testJobsMaterialisingTheSameInputAtOnceAllGetTheCompleteTree() throws {
        let directory = TemporaryDirectory()
        tree(directory, "src", order: ["a.txt", "sub/b.bin", "sub/deeper/c", "z y.txt"])
        let manifest = try InputDirectory.manifest(of: directory.file("src"))
        _ = try InputArchive.write(manifest, of: directory.file("src"), to: directory.file("archive"), name: "x")
        let target = directory.file("cache/inputs/\(manifest.sha256)")
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                try InputArchive.materialise(archive: directory.file("archive"), sha256: manifest.sha256, at: target)
            } catch {
                failures.add("\(error)")
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try InputDirectory.manifest(of: target), manifest)
        XCTAssertEqual(directory.entries("cache/inputs"), [manifest.sha256])
        InputArchive.removeTree(directory.file("cache"))
    }
}

/// Errors collected from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
