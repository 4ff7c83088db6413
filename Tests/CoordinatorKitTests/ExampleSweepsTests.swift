// ExampleSweepsTests: each example says how to make its data and run it, and what it says fits the file.
import CoordinatorKit
import Foundation
import XCTest

final class ExampleSweepsTests: XCTestCase {
    private let examples = ["exp03-bn-fix.yaml", "exp04-loss-ablation.yaml", "torch-trainer/sweep.yaml"]

    /// The words of the first comment line holding `marker` (leading `#` and spaces dropped).
    private func commentLine(_ text: String, containing marker: String) -> [String]? {
        text.split(separator: "\n").first { $0.hasPrefix("#") && $0.contains(marker) }.map {
            $0.drop { $0 == "#" || $0 == " " }.split(separator: " ").map(String.init)
        }
    }

    func testEachExampleSaysTheSynthLineThatMakesItsDatasetAndTheRunLine() throws {
        let root = URL(fileURLWithPath: examplesDirectory()).deletingLastPathComponent().path
        for example in examples {
            let path = examplesDirectory() + "/" + example
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let synth = try XCTUnwrap(commentLine(text, containing: "ablate data synth"), example)
            let out = try XCTUnwrap(synth.firstIndex(of: "-o").map { synth[$0 + 1] }, example)
            let sweep = try Sweep.load(path: path)
            XCTAssertEqual(sweep.datasetPath, root + "/" + out, "\(example): the synth line makes the sweep's dataset")
            let run = try XCTUnwrap(commentLine(text, containing: "ablate local"), example)
            let file = try XCTUnwrap(run.firstIndex(of: "-s").map { run[$0 + 1] }, example)
            XCTAssertEqual(file, "examples/" + example, "\(example): the run line names this file from the root")
        }
    }

    func testTheNativeExamplesTrainTheirOwnStage1Model() throws {
        for example in examples.prefix(2) {
            let sweep = try Sweep.load(path: examplesDirectory() + "/" + example)
            guard case .train = sweep.stage1 else { return XCTFail("\(example) needs a stage-1 checkpoint") }
        }
    }
}
