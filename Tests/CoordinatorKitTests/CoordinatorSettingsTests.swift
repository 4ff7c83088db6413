// CoordinatorSettingsTests: defaults are usable and every bad setting is reported at once.
import CoordinatorKit
import XCTest

final class CoordinatorSettingsTests: XCTestCase {
    func testDefaultsAreUsable() {
        let settings = CoordinatorSettings()
        XCTAssertEqual(settings.problems(), [])
        XCTAssertEqual(settings.expiryMs, 5000)
    }

    func testEveryBadSettingIsReported() {
        var settings = CoordinatorSettings()
        settings.heartbeatMs = 1
        settings.liveness = 1
        settings.maxAttempts = 0
        settings.chunkBytes = 10
        settings.window = 0
        XCTAssertEqual(settings.problems().count, 5)
    }
}
