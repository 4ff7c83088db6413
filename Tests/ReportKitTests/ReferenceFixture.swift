// ReferenceFixture: loads the NumPy reference's fixture predictions and expected statistics.
import Foundation
import XCTest

/// `Fixtures/report-predictions.json` and `Fixtures/report-expected.json`, written by scripts/report_reference.py.
struct ReferenceFixture {
    struct Inputs: Decodable {
        var classes: Int
        var labels: [Int]
        var baseline: String
        var resamples: Int
        var seed: UInt64
        var alpha: Double
        var systems: [String: [[Int]]]
    }

    struct Expected: Decodable {
        struct Variant: Decodable {
            var delta_pp: Double
            var per_class_delta_pp: [Double]
            var ci_low_pp: Double
            var ci_high_pp: Double
            var per_class_ci_low_pp: [Double]
            var per_class_ci_high_pp: [Double]
            var bootstrap_sd_pp: Double
            var p_value: Double
            var p_holm: Double
            // The verdict's seed-and-row interval.
            var per_seed_delta_pp: [Double]
            var seed_row_delta_pp: Double
            var seed_sd_pp: Double
            var seed_variance_pp2: Double
            var row_variance_pp2: Double
            var se_pp: Double
            var df: Double
            var seed_row_ci_low_pp: Double
            var seed_row_ci_high_pp: Double
            var equivalence_ci_low_pp: Double
            var equivalence_ci_high_pp: Double
            var seed_row_p_value: Double
            var seed_row_p_holm: Double
            var verdict: String
            var seeds_to_decide: Int?
            var seeds_to_decide_if_undecided: Int?
        }
        var threshold_pp: Double
        var variants: [String: Variant]
    }

    var inputs: Inputs
    var expected: Expected
    /// The compared variants in a fixed order.
    var names: [String]

    static func load() throws -> ReferenceFixture {
        func data(_ name: String) throws -> Data {
            let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
            return try Data(contentsOf: url)
        }
        let inputs = try JSONDecoder().decode(Inputs.self, from: data("report-predictions"))
        let expected = try JSONDecoder().decode(Expected.self, from: data("report-expected"))
        let names = inputs.systems.keys.filter { $0 != inputs.baseline }.sorted()
        return ReferenceFixture(inputs: inputs, expected: expected, names: names)
    }
}
