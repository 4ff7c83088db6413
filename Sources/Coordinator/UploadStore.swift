// UploadStore: the lab's uploaded files by SHA-256 — part files that resume, complete files only ever verified.
import AblateSupport
import Crypto
import Foundation
import TransferKit
import WireProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The files clients upload with `ablate submit` (UPLOAD), kept by content in `LAB/uploads/`:
///
/// - `uploads/<sha256>`: a complete file, its bytes verified against the name, read-only (0444). It appears there
///   only by a rename after the verification and an fsync, so a file under that name is always whole.
/// - `uploads/incoming/<sha256>.part`: the bytes received so far, in order. Its length is where an upload continues:
///   an UPLOAD at exactly that offset is appended, any other offset is answered `more` with that length, so a client
///   that restarted (or a coordinator that did) learns where to go on. A kill at any instant leaves a prefix of the
///   file here (at worst a shorter one); a part whose bytes were damaged is caught by the hash at the end and
///   dropped (`hash_mismatch`).
/// - `uploads/<manifest sha256>/`: a directory input materialised from its uploaded archive (`materialise`), a
///   read-only tree; made when a SUBMIT that names it is accepted (`SubmissionDesk`), before the submission is
///   stored, so that a sweep's prepare finds it in place.
///
/// Not thread-safe: the lab's server loop owns it.
public final class UploadStore {
    /// The most bytes one upload may have unless the initialiser says otherwise: `FieldLimits.maxUploadBytes` (1 TiB).
    public static let defaultMaximumBytes = FieldLimits.maxUploadBytes
    /// Bytes that must stay free on the filesystem after an upload completes unless told otherwise: 256 MB.
    public static let defaultReserveBytes: Int64 = 256_000_000
    /// Most uploads whose running hash is kept in memory; one beyond is hashed from its part file when it completes.
    static let maximumRunningHashes = 64

    /// `LAB/uploads`, absolute.
    public let directory: String
    /// The largest upload taken.
    public let maximumBytes: Int64
    /// Bytes that must stay free on the filesystem after an upload completes.
    public let reserveBytes: Int64
    private var hashes: [String: (length: Int64, hasher: SHA256)] = [:]
    private let freeSpace: (String) -> Int64

    /// The store of the lab at `labDirectory` (made absolute against the working directory); its directories are
    /// created on first use.
    /// - Parameters:
    ///   - maximumBytes: the largest upload taken; a larger one is refused.
    ///   - reserveBytes: an upload that would leave less free space than this is refused.
    ///   - freeSpace: the bytes free at a path (tests replace it); `FreeSpace.available` by default.
    public init(
        labDirectory: String, maximumBytes: Int64 = UploadStore.defaultMaximumBytes,
        reserveBytes: Int64 = UploadStore.defaultReserveBytes,
        freeSpace: @escaping (String) -> Int64 = { (try? FreeSpace.available(at: $0)) ?? Int64.max }
    ) {
        directory = CoordinatorSetup.absolute(labDirectory) + "/uploads"
        self.maximumBytes = maximumBytes
        self.reserveBytes = reserveBytes
        self.freeSpace = freeSpace
    }

    /// Where the complete upload (or materialised tree) `sha` is kept: `uploads/<sha>`. `sha` must be a validated
    /// SHA-256 (64 lower-case hex digits); any other text gives `uploads/.invalid`, which never exists.
    public func path(of sha: String) -> String {
        Hex.isDigest(sha) ? "\(directory)/\(sha)" : "\(directory)/.invalid"
    }

    /// Whether the complete upload `sha` of `size` bytes is held (a regular file of that size).
    public func has(_ sha: String, size: Int64) -> Bool {
        var status = stat()
        guard Hex.isDigest(sha), stat(path(of: sha), &status) == 0 else { return false }
        return (status.st_mode & S_IFMT) == S_IFREG && Int64(status.st_size) == size
    }

    /// Whether the directory input `manifest` has been materialised (`uploads/<manifest>/`).
    public func hasTree(_ manifest: String) -> Bool {
        Hex.isDigest(manifest) && Directories.isDirectory(path(of: manifest))
    }

    /// Takes one UPLOAD and says where the upload stands (see the type's documentation for the rules).
    public func receive(_ upload: Upload) -> UploadAck {
        let sha = upload.sha256
        let total = upload.totalSize
        func ack(_ next: Int64, _ status: UploadAck.Status, _ reason: String? = nil) -> UploadAck {
            UploadAck(sha256: sha, nextOffset: next, status: status, reason: reason)
        }
        guard Hex.isDigest(sha), total >= 0 else { return ack(0, .refused, "not a SHA-256 and size") }
        guard total <= maximumBytes else {
            return ack(0, .refused, "\(total) bytes is more than the largest upload this lab takes (\(maximumBytes))")
        }
        if has(sha, size: total) { return ack(total, .complete) }
        let incoming = directory + "/incoming"
        do { try Directories.create(incoming) } catch { return ack(0, .refused, "\(error)") }
        let part = "\(incoming)/\(sha).part"
        var held = fileSize(part)
        if held > total {
            // A part longer than the file can be: left by an upload that gave another size. Start again.
            unlink(part)
            hashes[sha] = nil
            held = 0
        }
        guard upload.offset == held else { return ack(held, .more) }
        let payload = upload.payload
        if !payload.isEmpty {
            let needed = (total - held) + reserveBytes
            let free = freeSpace(directory)
            guard free >= needed else {
                return ack(
                    held, .refused,
                    "not enough space in \(directory): \(total - held) bytes to come and \(reserveBytes) to keep free, \(free) free"
                )
            }
            if let problem = append(payload, to: part, at: held) {
                return ack(held, .refused, "\(part): \(problem)")
            }
            if var running = hashes[sha], running.length == held {
                payload.withUnsafeBytes { running.hasher.update(bufferPointer: $0) }
                running.length += Int64(payload.count)
                hashes[sha] = running
            } else if held == 0 {
                var hasher = SHA256()
                payload.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                if hashes.count >= Self.maximumRunningHashes, let evicted = hashes.keys.first { hashes[evicted] = nil }
                hashes[sha] = (Int64(payload.count), hasher)
            } else {
                hashes[sha] = nil
            }
            held += Int64(payload.count)
        }
        guard held == total else { return ack(held, .more) }
        return complete(sha, part: part, total: total)
    }

    /// Materialises the directory input whose manifest hashes to `manifest` from the uploaded archive `archive`, at
    /// `uploads/<manifest>/` (`InputArchive.materialise`: verified, read-only, built aside and renamed into place);
    /// does nothing when the tree is there already.
    /// - Returns: the tree's path.
    /// - Throws: `InputManifestError` when the archive is missing or is not the archive of that manifest.
    @discardableResult
    public func materialise(archive: String, manifest: String) throws(InputManifestError) -> String {
        let tree = path(of: manifest)
        guard Hex.isDigest(manifest), Hex.isDigest(archive) else { throw InputManifestError("not a SHA-256") }
        if hasTree(manifest) { return tree }
        try InputArchive.materialise(archive: path(of: archive), sha256: manifest, at: tree)
        return tree
    }

    /// The part is whole: checks its hash, then makes it durable and read-only and renames it into place.
    private func complete(_ sha: String, part: String, total: Int64) -> UploadAck {
        let digest: String
        if let running = hashes[sha], running.length == total {
            digest = SHA256Hex.hex(running.hasher.finalize())
        } else if total == 0 {
            if fileSize(part) == 0, !FileManager.default.fileExists(atPath: part) {
                _ = FileManager.default.createFile(atPath: part, contents: nil)
            }
            digest = SHA256Hex.of([UInt8]())
        } else {
            guard let hashed = try? SHA256Hex.ofFile(part) else {
                return UploadAck(sha256: sha, nextOffset: total, status: .refused, reason: "\(part): cannot be read")
            }
            digest = hashed
        }
        hashes[sha] = nil
        guard digest == sha else {
            unlink(part)
            return UploadAck(sha256: sha, nextOffset: 0, status: .hashMismatch)
        }
        do {
            try AtomicFile.fsyncPath(part)
            chmod(part, 0o444)
            guard rename(part, path(of: sha)) == 0 else {
                throw FileWriteError(path: part, detail: "rename failed: \(String(cString: strerror(errno)))")
            }
            try AtomicFile.fsyncPath(directory)
            try AtomicFile.fsyncPath(directory + "/incoming")
        } catch {
            return UploadAck(sha256: sha, nextOffset: total, status: .refused, reason: "\(error)")
        }
        return UploadAck(sha256: sha, nextOffset: total, status: .complete)
    }

    /// Appends `payload` at `offset` (the part's length); on a failed write the part is cut back to `offset`.
    private func append(_ payload: FrameBytes, to part: String, at offset: Int64) -> String? {
        let fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot be opened (\(String(cString: strerror(errno))))" }
        defer { close(fd) }
        let failure: String? = payload.withUnsafeBytes { bytes in
            var written = 0
            while written < bytes.count {
                let result = pwrite(
                    fd, bytes.baseAddress.map { $0 + written }, bytes.count - written, off_t(offset) + off_t(written))
                if result < 0 {
                    if errno == EINTR { continue }
                    return "cannot be written (\(String(cString: strerror(errno))))"
                }
                written += result
            }
            return nil
        }
        if failure != nil { _ = ftruncate(fd, off_t(offset)) }
        return failure
    }

    private func fileSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }
}
