// AdaptiveReportTests: an adaptive sweep's report judges each comparison at its look's level, over the cells of later seeds too.
import CoordinatorKit
import ReportKit
import XCTest

final class AdaptiveReportTests: XCTestCase {
    /// The fixture's sweep with seeds 1–4 finished, then recorded as `seeds: {initial: [1, 2, 3], max: 5}` with only
    /// the initial seeds' cells planned (and seed 4's added as later cells when `planSeedFour`). Keep the fixture: its
    /// directory goes with it.
    func adaptiveState(planSeedFour: Bool) throws -> StateDirectoryFixture {
        let listText = StateDirectoryFixture.sweepText.replacingOccurrences(
            of: "seeds: [1, 2, 3]", with: "seeds: [1, 2, 3, 4]")
        let fixture = try StateDirectoryFixture.make(sweepText: listText)
        let adaptiveText = StateDirectoryFixture.sweepText.replacingOccurrences(
            of: "seeds: [1, 2, 3]", with: "seeds: {initial: [1, 2, 3], max: 5}")
        let ledger = try Ledger(directory: fixture.state)
        _ = try ledger.beginRun(sweepName: "report-fixture", sweepText: adaptiveText)
        let cells = try ledger.cells()
        try ledger.setPlan(cells.filter { $0.seed != 4 }.map(\.id))
        if planSeedFour { try ledger.addPlannedCells(cells.filter { $0.seed == 4 }) }
        try ledger.close()
        return fixture
    }

    func testLoaderGivesTheDesignAndTheLevelIsTheLooks() throws {
        let fixture = try adaptiveState(planSeedFour: false)
        let inputs = try ReportLoader.load(stateDirectory: fixture.state)
        XCTAssertEqual(inputs.design, SequentialDesign(initialSeeds: 3, maximumSeeds: 5, alpha: 0.05))
        let report = try ReportBuilder.build(inputs, parallel: false)
        let same = try XCTUnwrap(report.variants.first { $0.name == "same" }?.comparison)
        XCTAssertEqual(same.pairedSeeds, [1, 2, 3], "seed 4 is not planned: left out")
        XCTAssertEqual(same.level, 0.05 / 4, accuracy: 1e-15, "an interim look of K = 3: α / (2 (K − 1))")
        XCTAssertEqual(report.significance.design?.maximumSeeds, 5)
    }

    func testLaterCellsAddedToThePlanAreReported() throws {
        let fixture = try adaptiveState(planSeedFour: true)
        let report = try ReportBuilder.build(stateDirectory: fixture.state, parallel: false)
        let good = try XCTUnwrap(report.variants.first { $0.name == "good" }?.comparison)
        XCTAssertEqual(good.pairedSeeds, [1, 2, 3, 4])
        XCTAssertEqual(good.level, 0.05 / 4, accuracy: 1e-15)
    }

    func testListSweepHasNoDesign() throws {
        let fixture = try StateDirectoryFixture.make()
        let inputs = try ReportLoader.load(stateDirectory: fixture.state)
        XCTAssertNil(inputs.design)
        let report = try ReportBuilder.build(inputs, parallel: false)
        XCTAssertEqual(report.variants.first { $0.name == "good" }?.comparison?.level, 0.05)
    }
}
