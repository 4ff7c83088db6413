// LossTable: the loss names a run may use, the settings that parameterise each, and which use class weights.

/// One loss of the research protocol as the settings see it (the formulas live in `NN.LossKind`, whose research
/// defaults are checked against this table by a test).
public struct LossEntry: Sendable, Equatable {
    /// The name in run files and sweeps.
    public let name: String
    /// Setting keys that change what this loss computes (besides `beta` when it uses class weights).
    public let parameters: [String]
    /// Whether the loss weights rows by class-balanced weights (whose β is the `beta` setting, 0.9999 unset).
    public let usesClassWeights: Bool
    /// The research defaults of its parameters, for documentation.
    public let defaults: String
}

/// The losses (Lin et al. 2017 focal; Cui et al. 2019 class-balanced; Leng et al. 2022 PolyLoss; Ridnik et al. 2021
/// asymmetric; Müller et al. 2019 label smoothing), in documentation order.
public enum LossTable {
    public static let entries: [LossEntry] = [
        LossEntry(name: "cb_focal", parameters: ["gamma", "beta"], usesClassWeights: true, defaults: "γ 2, β 0.9999"),
        LossEntry(name: "poly", parameters: ["epsilon"], usesClassWeights: true, defaults: "ε 1"),
        LossEntry(
            name: "asymmetric", parameters: ["gamma_pos", "gamma_neg"], usesClassWeights: true, defaults: "γ+ 2, γ− 4"),
        LossEntry(
            name: "focal_smoothing", parameters: ["gamma", "smoothing"], usesClassWeights: true, defaults: "γ 2, ε 0.1"),
        LossEntry(name: "focal", parameters: ["gamma"], usesClassWeights: false, defaults: "γ 2"),
        LossEntry(name: "ce", parameters: [], usesClassWeights: false, defaults: "—"),
    ]

    /// The entry named `name`, nil for an unknown loss.
    public static func entry(_ name: String) -> LossEntry? { entries.first { $0.name == name } }

    /// Every setting key that parameterises some loss.
    public static var parameterKeys: [String] {
        var keys: [String] = []
        for key in entries.flatMap(\.parameters) + ["beta"] where !keys.contains(key) { keys.append(key) }
        return keys
    }

    /// Whether setting `key` changes what loss `name` computes: one of its parameters, or `beta` for a loss with
    /// class weights. An unknown loss uses every key (nothing can be said against it).
    public static func uses(_ key: String, loss name: String) -> Bool {
        guard let entry = entry(name) else { return true }
        return entry.parameters.contains(key) || (key == "beta" && entry.usesClassWeights)
    }

    /// The names for messages: `cb_focal, poly, asymmetric, focal_smoothing, focal or ce`.
    public static var names: String {
        let all = entries.map(\.name)
        return all.dropLast().joined(separator: ", ") + " or " + (all.last ?? "")
    }
}
