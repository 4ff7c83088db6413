// StoppedStateDirectory: the lock a command takes on a stopped coordinator's state directory before changing it.
import CoordinatorKit
import Foundation

/// For commands that change a state directory offline (`retry`, `ledger upgrade`): the directory must hold a ledger
/// and no coordinator may be running on it; either failure is one line.
enum StoppedStateDirectory {
    /// The state directory's lock, held for as long as the returned value lives.
    static func lock(_ state: String) throws -> StateLock {
        guard FileManager.default.fileExists(atPath: Ledger.filePath(in: state)) else {
            throw RunFailure(message: "--state \(state): no ledger.sqlite there (not a coordinator's state directory)")
        }
        do { return try StateLock(stateDirectory: state) } catch { throw RunFailure(message: "\(error)") }
    }
}
