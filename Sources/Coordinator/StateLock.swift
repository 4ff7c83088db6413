// StateLock: one coordinator per state directory, held by an exclusive flock(2) on STATE/coordinator.lock.
import Foundation

#if canImport(Glibc)
    import Glibc
    import TransferKit
#endif

/// An exclusive lock on a state directory for the life of this value (the kernel releases it when the process
/// dies, however it dies). The lock file holds the owner's pid, for the message a second coordinator gets.
public final class StateLock {
    /// The lock file's name inside the state directory.
    public static let fileName = "coordinator.lock"
    public let path: String
    private let fd: Int32

    public init(stateDirectory: String) throws {
        path = "\(stateDirectory)/\(StateLock.fileName)"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ArtifactStoreError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            let owner =
                (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                ?? ""
            close(fd)
            if busy {
                throw ArtifactStoreError(
                    "\(stateDirectory): in use by another coordinator\(owner.isEmpty ? "" : " (pid \(owner))"); stop it or use another --state"
                )
            }
            throw ArtifactStoreError("\(path): cannot lock: \(reason)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }
}
