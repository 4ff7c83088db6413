// StateLockTests: one coordinator per state directory.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

final class StateLockTests: XCTestCase {
    /// A second lock on the same directory is refused with a message naming the directory and the owner's pid;
    /// once the first is released the directory can be locked again.
    func testASecondCoordinatorIsRefusedUntilTheFirstIsGone() throws {
        let directory = TemporaryDirectory()
        var first: StateLock? = try StateLock(stateDirectory: directory.path)
        XCTAssertNotNil(first)
        XCTAssertThrowsError(try StateLock(stateDirectory: directory.path)) { error in
            XCTAssertEqual(
                "\(error)",
                "\(directory.path): in use by another coordinator (pid \(getpid())); stop it or use another --state")
        }
        first = nil
        XCTAssertNoThrow(try StateLock(stateDirectory: directory.path))
    }
}
