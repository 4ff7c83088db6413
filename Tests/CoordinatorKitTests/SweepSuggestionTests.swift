// SweepSuggestionTests: "did you mean" for misspelt and shortened setting names.
import XCTest

@testable import CoordinatorKit

final class SweepSuggestionTests: XCTestCase {
    private func message(for key: String) throws -> String {
        let text = """
            name: s
            dataset: {path: x.h5, content_hash: \(String(repeating: "a", count: 64))}
            stage1_checkpoint: s1.h5
            baseline: a
            seeds: [1]
            train: {\(key): 0.1}
            variants: {a: {}}
            """
        do {
            _ = try Sweep.parse(text: text, sourceName: "s.yaml", workingDirectory: "/tmp")
            XCTFail("\(key) was accepted")
            return ""
        } catch let error as SweepError {
            let problem = try XCTUnwrap(error.problems.first { $0.key == "train.\(key)" }, "\(error)")
            XCTAssertEqual(problem.line, 6)
            return problem.message
        }
    }

    func testAFirstWordSuggestsItsFamily() throws {
        XCTAssertEqual(
            try message(for: "lr"),
            "unknown key (not a training setting); did you mean 'lr_adapter', 'lr_backbone' or 'lr_head'?")
    }

    func testATypoSuggestsTheNearestName() throws {
        XCTAssertEqual(try message(for: "lr_haed"), "unknown key (not a training setting); did you mean 'lr_head'?")
    }

    func testANameFarFromEverySettingSuggestsNothing() throws {
        XCTAssertEqual(try message(for: "colour"), "unknown key (not a training setting)")
    }

    func testAFamilyOfMoreThanThreeIsNotListed() {
        let four = ["rate_alpha", "rate_beta", "rate_gamma", "rate_delta"]
        XCTAssertEqual(SweepReader.suggestions(for: "rate", in: four), [])
        XCTAssertEqual(SweepReader.suggestions(for: "rate", in: Array(four.prefix(2))), ["rate_alpha", "rate_beta"])
    }
}
