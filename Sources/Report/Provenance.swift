// Provenance: differences between a variant's cells and the baseline's beyond the declared overrides, as warnings.
import CoordinatorKit
import Foundation

/// What one cell was computed from, flattened to comparable `key → value` text.
public struct ProvenanceRecord: Sendable, Equatable {
    public var variant: String
    public var seed: UInt64
    /// Every resolved config key but `seed` and `threads`, plus `dataset`, `stage1_checkpoint`, `code_version` and,
    /// for a command cell with code, `code` (its code hash). The thread count and the kernels are left out: results
    /// depend on neither (every product runs on Ablate's own GEMM kernels, whose paths and thread splits are tested
    /// bit for bit; OpenBLAS, whose kernel `blas_core` names, is not used by the trainer), so workers with different
    /// `--threads`, `--kernel` or CPUs are not a difference. Cells of an ablate from before the own kernels differ in
    /// `code_version`, which is compared.
    public var values: [String: String]
    /// Provenance keys the cell's result does not record (a command cell's dataset hash and stage-1 hash):
    /// unknown, not different, so they are left out of every comparison of that key.
    public var unknown: Set<String> = []

    /// A record from a cell's config JSON and provenance.
    public init(variant: String, seed: UInt64, configJSON: String, provenance: CellProvenance) {
        self.variant = variant
        self.seed = seed
        var values = Provenance.flatten(configJSON: configJSON)
        values["seed"] = nil
        values["threads"] = nil
        values["dataset"] = provenance.datasetSHA256
        values["stage1_checkpoint"] = provenance.stage1SHA256
        values["code_version"] = provenance.codeVersion ?? "unknown"
        values["code"] = provenance.code?.sha256
        self.values = values
        unknown = Set(
            [
                ("dataset", provenance.datasetSHA256), ("stage1_checkpoint", provenance.stage1SHA256),
                ("code", provenance.code?.sha256),
            ].filter { $0.1 == nil }.map(\.0))
    }

    public init(variant: String, seed: UInt64, values: [String: String]) {
        self.variant = variant
        self.seed = seed
        self.values = values
    }
}

/// Finds what differs where it should not. A variant may differ from the baseline only in the keys the sweep
/// declares for either of them (their `overrides`); anything else — another config value (the research
/// pipeline's `lr_head: 0.001 vs 0.0001`), dataset, stage-1 checkpoint, code version, BLAS kernel —
/// is a warning naming the key and both values. Cells of one variant must agree with each other in everything
/// but the seed. Worker hosts are recorded but not compared (cells are spread over machines by design).
public enum Provenance {
    /// Warnings, one line each, in variant order then key order.
    public static func warnings(
        records: [ProvenanceRecord], baseline: String, variants: [String],
        declared: [String: Set<String>]
    ) -> [String] {
        var warnings: [String] = []
        let byVariant = Dictionary(grouping: records, by: \.variant)
        for variant in variants {
            guard let cells = byVariant[variant] else { continue }
            for key in keys(cells) {
                let known = cells.filter { !$0.unknown.contains(key) }
                let values = Set(known.map { $0.values[key] ?? "unset" })
                guard values.count > 1 else { continue }
                let listing = known.sorted { $0.seed < $1.seed }.map {
                    "\(show(key, $0.values[key])) (seed \($0.seed))"
                }
                warnings.append("\(variant): its cells differ in \(key): \(listing.joined(separator: " vs "))")
            }
        }
        guard let baseCells = byVariant[baseline] else { return warnings }
        let baseDeclared = declared[baseline] ?? []
        for variant in variants where variant != baseline {
            guard let cells = byVariant[variant] else { continue }
            let allowed = baseDeclared.union(declared[variant] ?? [])
            for key in keys(cells + baseCells) where !allowed.contains(key) && !variantOnlyKeys.contains(key) {
                let mine = values(of: key, in: cells)
                let theirs = values(of: key, in: baseCells)
                guard !mine.isEmpty, !theirs.isEmpty, mine != theirs else { continue }
                let left = mine.map { show(key, $0) }.joined(separator: " / ")
                let right = theirs.map { show(key, $0) }.joined(separator: " / ")
                warnings.append(
                    "\(variant) vs baseline \(baseline): \(key): \(left) vs \(right) (not a declared override)")
            }
        }
        return warnings
    }

    /// Keys compared among the cells of one variant only: a variant's code (`code:`, its command's script) may
    /// differ from the baseline's by design.
    static let variantOnlyKeys: Set<String> = ["code"]

    /// Differences of a cell's config from the config the sweep file resolves for its variant (seed excluded).
    public static func differences(configJSON: String, expected: String) -> [String] {
        var mine = flatten(configJSON: configJSON)
        var theirs = flatten(configJSON: expected)
        mine["seed"] = nil
        theirs["seed"] = nil
        return Set(mine.keys).union(theirs.keys).sorted().compactMap { key in
            mine[key] == theirs[key] ? nil : "\(key): \(mine[key] ?? "unset") vs \(theirs[key] ?? "unset")"
        }
    }

    /// A config JSON object's keys with their values as text: numbers as Swift prints them (`0.001`, `1e-05`,
    /// whole numbers without a fraction), strings bare, lists as `[3, 4]`; nothing for a non-object.
    public static func flatten(configJSON: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(configJSON.utf8)) as? [String: Any] else {
            return [:]
        }
        var values: [String: String] = [:]
        for (key, value) in object { values[key] = text(value) }
        return values
    }

    private static func text(_ value: Any) -> String {
        switch value {
        case let string as String: return string
        case let list as [Any]: return "[" + list.map(text).joined(separator: ", ") + "]"
        case is NSNull: return "null"
        case let number as NSNumber:
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return String(Int64(double)) }
            return String(double)
        default: return "\(value)"
        }
    }

    private static func keys(_ records: [ProvenanceRecord]) -> [String] {
        Set(records.flatMap { $0.values.keys }).sorted()
    }

    private static func values(of key: String, in records: [ProvenanceRecord]) -> [String] {
        Set(records.filter { !$0.unknown.contains(key) }.map { $0.values[key] ?? "unset" }).sorted()
    }

    /// Hashes shortened to 12 hex digits; other values as they are.
    private static func show(_ key: String, _ value: String?) -> String {
        guard let value else { return "unset" }
        if ["dataset", "stage1_checkpoint", "code"].contains(key), value.count == 64 {
            return String(value.prefix(12))
        }
        return value
    }
}
