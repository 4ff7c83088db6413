// StateDirectoryUndo: what a coordinator's state directory held before it started, to leave it so on a failed start.
import AblateSupport
import CoordinatorKit
import Foundation

/// Taken before a command plans into a state directory; `undo` after a failed start removes what the command
/// added (the directory itself, with any parents it made, when it did not exist), and nothing else.
struct StateDirectoryUndo {
    let path: String
    /// The outermost directory the command would create (nil: the state directory existed).
    let missing: String?
    /// The state directory's entries before the command started.
    let before: Set<String>

    init(_ path: String) {
        self.path = path
        missing = Directories.outermostMissing(path)
        before = Directories.entries(path)
    }

    /// Removes what this command added. `holdingLock`: this process holds the directory's coordinator lock;
    /// without it the lock is taken first, and a directory another coordinator holds is left alone (its new
    /// files are that coordinator's).
    func undo(holdingLock: Bool) {
        guard !holdingLock else { return Directories.undo(path, created: missing, before: before) }
        guard Directories.isDirectory(path) else { return }
        guard let lock = try? StateLock(stateDirectory: path) else { return }
        withExtendedLifetime(lock) { Directories.undo(path, created: missing, before: before) }
    }
}
