// InputArchive: a directory input as one artifact (manifest, empty line, files' bytes) — written, and materialised.
import AblateSupport
import Crypto
import Foundation
import WireProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The archive of a directory input: its manifest's text (`InputManifest.text`), one empty line (`\n`), then every
/// file's bytes in manifest order, nothing after. Deterministic: the same tree gives the same bytes. The coordinator
/// writes it once per manifest and serves it as an artifact; a worker fetches it (verified by its SHA-256 like any
/// artifact) and materialises the tree from it, checking the manifest against the input's hash and every file
/// against its own.
public enum InputArchive {
    private static let pieceBytes = 1 << 20

    /// Writes the archive of the directory `root` described by `manifest` to `path` (through a part file of this
    /// process, fsynced and renamed) unless a file is there already, and returns the archive as an artifact.
    /// - Throws: `InputManifestError` when a file cannot be read or no longer has the bytes the manifest lists, or
    ///   the archive cannot be written.
    public static func write(
        _ manifest: InputManifest, of root: String, to path: String, name: String
    ) throws(InputManifestError) -> ArtifactRef {
        if FileManager.default.fileExists(atPath: path) {
            do { return try ArtifactRef.ofFile(path, name: name) } catch {
                throw InputManifestError("\(path): cannot be read (\(error))")
            }
        }
        let part = "\(path).part-\(getpid())"
        let fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputManifestError("\(part): cannot be created (\(String(cString: strerror(errno))))")
        }
        var archive = SHA256()
        var size: Int64 = 0
        do throws(InputManifestError) {
            defer { close(fd) }
            let header = Array((manifest.text + "\n").utf8)
            archive.update(data: header)
            size += Int64(header.count)
            guard header.withUnsafeBytes({ writeFully(fd, $0) }) else {
                throw InputManifestError("\(part): cannot be written (\(String(cString: strerror(errno))))")
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceBytes, alignment: 64)
            defer { buffer.deallocate() }
            for entry in manifest.entries {
                let file = "\(root)/\(entry.path)"
                var hasher = SHA256()
                var offset: Int64 = 0
                while offset < entry.size {
                    let want = Int(min(Int64(pieceBytes), entry.size - offset))
                    let got: Int
                    do {
                        got = try readChunk(
                            file, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
                    } catch {
                        throw InputManifestError("\(file): cannot be read (\(error.detail))")
                    }
                    guard got > 0 else { break }
                    let piece = UnsafeRawBufferPointer(rebasing: buffer[..<got])
                    hasher.update(bufferPointer: piece)
                    archive.update(bufferPointer: piece)
                    size += Int64(got)
                    guard writeFully(fd, piece) else {
                        throw InputManifestError("\(part): cannot be written (\(String(cString: strerror(errno))))")
                    }
                    offset += Int64(got)
                }
                guard offset == entry.size, SHA256Hex.hex(hasher.finalize()) == entry.sha256 else {
                    throw InputManifestError("\(file): changed while the input was being archived; run again")
                }
            }
            guard fsync(fd) == 0 else { throw InputManifestError("\(part): cannot be synced to disk") }
        } catch {
            unlink(part)
            throw error
        }
        guard rename(part, path) == 0 else {
            unlink(part)
            throw InputManifestError("\(path): cannot move the archive into place (errno \(errno))")
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
        return ArtifactRef(name: name, sha256: SHA256Hex.hex(archive.finalize()), size: size)
    }

    /// Materialises the directory input whose manifest hashes to `sha256` from its archive at `archive`, as a
    /// read-only tree at `destination` (files 0444, or 0555 with the execute bit; directories 0555). The tree is
    /// built in a part directory of this process beside `destination`, every file and directory fsynced, then
    /// renamed into place: a tree under `destination` is always complete, so one found there is used as it is; when
    /// several processes or threads build it at once, the first rename wins and the others drop their copies.
    /// Part directories of processes that are gone are removed on the way.
    /// - Throws: `InputManifestError` when the archive's manifest breaks a rule or does not hash to `sha256`, a file's
    ///   bytes do not match its hash, the archive is shorter or longer than its manifest says, or a write fails.
    public static func materialise(archive: String, sha256: String, at destination: String) throws(InputManifestError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            return
        }
        let parent = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw InputManifestError("\(parent): cannot be created")
        }
        removeAbandonedParts(in: parent)
        let (manifest, start) = try readManifest(archive)
        guard manifest.sha256 == sha256 else {
            throw InputManifestError("\(archive): the archive's manifest does not hash to the input's \(sha256)")
        }
        let archiveSize = fileSize(archive)
        guard archiveSize == start + manifest.totalBytes else {
            throw InputManifestError("\(archive): the archive holds \(archiveSize) bytes, not what its manifest lists")
        }
        // Unique per call: two jobs of one worker process may materialise the same input at once.
        let part =
            "\(parent)/.part-\(getpid())-\(UInt64.random(in: 0...UInt64.max))-\((destination as NSString).lastPathComponent)"
        removeTree(part)
        do throws(InputManifestError) {
            try unpack(manifest, archive: archive, from: start, into: part)
        } catch {
            removeTree(part)
            throw error
        }
        if rename(part, destination) != 0 {
            let reason = errno
            removeTree(part)
            // Another worker process of the host materialised it first: its tree is complete.
            guard FileManager.default.fileExists(atPath: destination) else {
                throw InputManifestError("\(destination): cannot move the input into place (errno \(reason))")
            }
        }
        syncDirectory(parent)
    }

    /// The manifest at the start of an archive and the offset of the first file's bytes.
    static func readManifest(_ archive: String) throws(InputManifestError) -> (InputManifest, Int64) {
        var text: [UInt8] = []
        var offset: Int64 = 0
        while text.count <= InputManifest.maximumTextBytes {
            let piece: [UInt8]
            do { piece = try readChunk(archive, offset: offset, length: 64 * 1024) } catch {
                throw InputManifestError("\(archive): cannot be read (\(error.detail))")
            }
            guard !piece.isEmpty else { break }
            let searchFrom = max(0, text.count - 1)
            text += piece
            offset += Int64(piece.count)
            var index = searchFrom
            while index + 1 < text.count {
                if text[index] == 0x0A && text[index + 1] == 0x0A {
                    let manifest = try InputManifest.parse(Array(text[...index]))
                    return (manifest, Int64(index + 2))
                }
                index += 1
            }
        }
        throw InputManifestError(
            "\(archive): no manifest of at most \(InputManifest.maximumTextBytes) bytes at its start")
    }

    private static func unpack(
        _ manifest: InputManifest, archive: String, from start: Int64, into root: String
    ) throws(InputManifestError) {
        guard mkdir(root, 0o755) == 0 else {
            throw InputManifestError("\(root): cannot be created (\(String(cString: strerror(errno))))")
        }
        var directories: [String] = [root]
        var made: Set<String> = [root]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceBytes, alignment: 64)
        defer { buffer.deallocate() }
        var offset = start
        for entry in manifest.entries {
            var folder = root
            for component in entry.path.split(separator: "/").dropLast() {
                folder += "/" + component
                if made.insert(folder).inserted {
                    guard mkdir(folder, 0o755) == 0 else {
                        throw InputManifestError("\(folder): cannot be created (\(String(cString: strerror(errno))))")
                    }
                    directories.append(folder)
                }
            }
            let path = "\(root)/\(entry.path)"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else {
                throw InputManifestError("\(path): cannot be created (\(String(cString: strerror(errno))))")
            }
            defer { close(fd) }
            var hasher = SHA256()
            var left = entry.size
            while left > 0 {
                let want = Int(min(Int64(pieceBytes), left))
                let got: Int
                do {
                    got = try readChunk(
                        archive, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
                } catch {
                    throw InputManifestError("\(archive): cannot be read (\(error.detail))")
                }
                guard got > 0 else { throw InputManifestError("\(archive): ends before its last file") }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<got]))
                guard writeFully(fd, UnsafeRawBufferPointer(rebasing: buffer[..<got])) else {
                    throw InputManifestError("\(path): cannot be written (\(String(cString: strerror(errno))))")
                }
                offset += Int64(got)
                left -= Int64(got)
            }
            guard SHA256Hex.hex(hasher.finalize()) == entry.sha256 else {
                throw InputManifestError(
                    "\(archive): the bytes of \(entry.path.debugDescription) do not match its hash")
            }
            guard fsync(fd) == 0, fchmod(fd, entry.executable ? 0o555 : 0o444) == 0 else {
                throw InputManifestError("\(path): cannot be synced to disk")
            }
        }
        for directory in directories.reversed() {
            syncDirectory(directory)
            chmod(directory, 0o555)
        }
    }

    /// Removes a tree made read-only by `materialise` (or a part of one).
    public static func removeTree(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        if status.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o755)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                removeTree("\(path)/\(name)")
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Removes `.part-<pid>-*` directories whose process is gone.
    static func removeAbandonedParts(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(".part-") {
            let rest = name.dropFirst(".part-".count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { removeTree("\(directory)/\(name)") }
        }
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and interruptions); false on an error (in `errno`).
    private static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count, let base = bytes.baseAddress {
            let wrote = Glibc.write(fd, base + done, bytes.count - done)
            if wrote < 0 && errno == EINTR { continue }
            guard wrote > 0 else { return false }
            done += wrote
        }
        return true
    }

    private static func fileSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : -1
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
