// ProvenanceTests: undeclared differences between a variant's cells and the baseline's are named with both values.
import ReportKit
import XCTest

final class ProvenanceTests: XCTestCase {
    private func record(
        _ variant: String, seed: UInt64 = 1, lrHead: String, loss: String = "cb_focal", stage1: String = "e",
        threads: Int = 1, core: String = "Haswell", version: String = "0.1.0"
    ) -> ProvenanceRecord {
        let config =
            "{\"loss\":\"\(loss)\",\"lr_head\":\(lrHead),\"seed\":\(seed),\"stage\":\"2\",\"threads\":\(threads)}"
        return ProvenanceRecord(
            variant: variant, seed: seed, configJSON: config,
            provenance: CellProvenance(
                configSHA256: "", datasetSHA256: String(repeating: "d", count: 64),
                stage1SHA256: String(repeating: stage1, count: 64),
                codeVersion: version, worker: "w", host: "h", blasCore: core, blasThreads: threads))
    }

    /// Results depend on neither the thread count nor the kernels (tested in NNTests' threading and GEMM-kernel
    /// suites), so cells trained with different `threads` or on another OpenBLAS kernel are not a difference.
    func testThreadsAndKernelsAreRecordedNotCompared() {
        let warnings = Provenance.warnings(
            records: [record("variant", lrHead: "0.0001", threads: 4), record("base", lrHead: "0.0001", threads: 1)],
            baseline: "base", variants: ["base", "variant"], declared: [:])
        XCTAssertEqual(warnings, [])
        let kernels = Provenance.warnings(
            records: [record("variant", lrHead: "0.0001", core: "SkylakeX"), record("base", lrHead: "0.0001")],
            baseline: "base", variants: ["base", "variant"], declared: [:])
        XCTAssertEqual(kernels, [])
        let versions = Provenance.warnings(
            records: [record("variant", lrHead: "0.0001", version: "0.2.0"), record("base", lrHead: "0.0001")],
            baseline: "base", variants: ["base", "variant"], declared: [:])
        XCTAssertEqual(versions, ["variant vs baseline base: code_version: 0.2.0 vs 0.1.0 (not a declared override)"])
    }

    func testUndeclaredHeadLearningRateIsNamed() {
        // The research pipeline's case: a head learning rate of 1e-3 vs 1e-4 nobody declared.
        let warnings = Provenance.warnings(
            records: [record("variant", lrHead: "0.001"), record("base", lrHead: "0.0001")],
            baseline: "base", variants: ["base", "variant"], declared: ["variant": ["loss"], "base": []])
        XCTAssertEqual(warnings, ["variant vs baseline base: lr_head: 0.001 vs 0.0001 (not a declared override)"])
    }

    func testDeclaredOverridesAreNotWarned() {
        let warnings = Provenance.warnings(
            records: [record("variant", lrHead: "0.001", loss: "poly"), record("base", lrHead: "0.0001")],
            baseline: "base", variants: ["base", "variant"], declared: ["variant": ["lr_head", "loss"]])
        XCTAssertEqual(warnings, [])
    }

    func testStage1CheckpointAndInconsistentSeeds() {
        let records = [
            record("variant", lrHead: "0.0001", stage1: "f"), record("base", seed: 1, lrHead: "0.0001"),
            record("base", seed: 2, lrHead: "0.001"),
        ]
        let warnings = Provenance.warnings(
            records: records, baseline: "base", variants: ["base", "variant"], declared: [:])
        XCTAssertTrue(
            warnings.contains("base: its cells differ in lr_head: 0.0001 (seed 1) vs 0.001 (seed 2)"), "\(warnings)")
        XCTAssertTrue(
            warnings.contains(
                "variant vs baseline base: stage1_checkpoint: ffffffffffff vs eeeeeeeeeeee (not a declared override)"),
            "\(warnings)")
    }

    func testDifferencesFromTheSweepFile() {
        XCTAssertEqual(
            Provenance.differences(
                configJSON: "{\"lr_head\":0.001,\"seed\":3}", expected: "{\"lr_head\":0.0001,\"seed\":0}"),
            ["lr_head: 0.001 vs 0.0001"])
        XCTAssertEqual(
            Provenance.flatten(configJSON: "{\"adapter_layers\":[3,4],\"epochs\":50,\"gamma\":2,\"lr\":1e-05}"),
            ["adapter_layers": "[3, 4]", "epochs": "50", "gamma": "2", "lr": "1e-05"])
    }
}
