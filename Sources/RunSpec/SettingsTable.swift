// SettingsTable: every run setting in one list — the only place a setting is declared besides its stored property.

/// The settings of a run, in documentation order. Adding a setting: a stored property on `TrainingConfig` and one
/// entry here (with `since` = the next `CellIdentity` schema and the `identityDefault` that reproduces today's
/// behaviour); decoding, validation, sweeps, flags, placeholders and docs follow.
public enum SettingsTable {
    public static let all: [Setting] = [
        .choice("stage", \TrainingConfig.stage, default: "none (required)", help: "Stage: 1, 2, 3rect or 3ab."),
        .integer(
            "width", \TrainingConfig.width, default: "64", help: "Backbone base width (64 = the research model).",
            rule: { v, _ in v < 16 || v % 16 != 0 ? "width \(v) must be a positive multiple of 16" : nil }),
        .integer(
            "adapter_reduction", \TrainingConfig.adapterReduction, default: "4",
            help: "Adapter reduction γ (hidden = C / γ): 2, 4, 8 or 16.",
            rule: { v, _ in [2, 4, 8, 16].contains(v) ? nil : "adapter_reduction \(v) must be 2, 4, 8 or 16" }),
        .integers(
            "adapter_layers", \TrainingConfig.adapterLayers, default: "[3, 4]",
            help: "Backbone layers (1–4) with a Conv-Adapter after them.",
            rule: { v, config in
                if v.isEmpty && config.stage.usesAdapters { return "adapter_layers must not be empty" }
                return v.contains { !(1...4).contains($0) } ? "adapter_layers \(v) must be within 1…4" : nil
            }),
        .text(
            "loss", \TrainingConfig.loss, default: "cb_focal (Stage 1: focal)",
            help: "Loss: \(LossTable.entries.map(\.name).joined(separator: ", ")).",
            rule: { LossTable.entry($0) == nil ? "unknown loss '\($0)' (expected \(LossTable.names))" : nil }),
        .optionalNumber("gamma", \TrainingConfig.gamma, default: "2", help: "Focal γ."),
        .optionalNumber(
            "beta", \TrainingConfig.beta, default: "0.9999",
            help: "Class-balance β (also the class weights of the other weighted losses)."),
        .optionalNumber("epsilon", \TrainingConfig.epsilon, default: "1", help: "PolyLoss ε."),
        .optionalNumber("gamma_pos", \TrainingConfig.gammaPositive, default: "2", help: "Asymmetric loss γ+."),
        .optionalNumber("gamma_neg", \TrainingConfig.gammaNegative, default: "4", help: "Asymmetric loss γ−."),
        .optionalNumber("smoothing", \TrainingConfig.smoothing, default: "0.1", help: "Label smoothing ε."),
        .choice(
            "backbone_bn", \TrainingConfig.backboneBN, default: "eval",
            help: "BatchNorm mode of the frozen backbone during training: eval or train."),
        .integer(
            "epochs", \TrainingConfig.epochs, default: "50", help: "Maximum epochs.",
            rule: { v, _ in v < 1 ? "epochs must be ≥ 1" : nil }),
        .integer(
            "batch_size", \TrainingConfig.batchSize, default: "128", help: "Batch size.",
            rule: { v, _ in v < 2 ? "batch_size must be ≥ 2 (BatchNorm needs two rows)" : nil }),
        .number(
            "lr_adapter", \TrainingConfig.lrAdapter, default: "0.001", help: "AdamW learning rate of the adapters.",
            rule: positive("lr_adapter")),
        .number(
            "lr_head", \TrainingConfig.lrHead, default: "0.0001 (Stage 1: 0.001)",
            help: "AdamW learning rate of the head.",
            rule: positive("lr_head")),
        .number(
            "lr_backbone", \TrainingConfig.lrBackbone, default: "0.0001",
            help: "AdamW learning rate of the backbone (Stage 1 only).", rule: positive("lr_backbone")),
        .number("weight_decay", \TrainingConfig.weightDecay, default: "0.01", help: "AdamW weight decay."),
        .number(
            "scheduler_factor", \TrainingConfig.schedulerFactor, default: "0.5",
            help: "ReduceLROnPlateau factor (on validation macro-F1)."),
        .integer(
            "scheduler_patience", \TrainingConfig.schedulerPatience, default: "5",
            help: "ReduceLROnPlateau patience in epochs."),
        .number(
            "scheduler_threshold", \TrainingConfig.schedulerThreshold, default: "0.0001",
            help: "ReduceLROnPlateau relative threshold."),
        .integer(
            "early_stopping_patience", \TrainingConfig.earlyStoppingPatience, default: "15",
            help: "Epochs without improvement of validation macro-F1 before stopping."),
        .choice(
            "sampler", \TrainingConfig.sampler, default: "weighted (Stage 1: shuffle)",
            help: "weighted: inverse-frequency sampling with replacement; shuffle: every row once."),
        .seed("seed", \TrainingConfig.seed, default: "42", help: "Seed of initialisation, sampling and dropout."),
        .integer(
            "threads", \TrainingConfig.threads, default: "1", help: "Compute threads (results do not depend on it).",
            rule: { v, _ in v < 1 ? "threads must be ≥ 1" : nil }),
        .optionalInteger(
            "max_train_rows", \TrainingConfig.maxTrainRows, default: "all",
            help: "Use only the first N training rows of the stage (demos)."),
        .optionalInteger(
            "max_val_rows", \TrainingConfig.maxValRows, default: "all",
            help: "Use only the first N validation rows of the stage."),
    ]

    /// The setting with key `key`, nil for none.
    public static func setting(_ key: String) -> Setting? { all.first { $0.key == key } }

    /// Every key, in table order.
    public static var keys: [String] { all.map(\.key) }

    private static func positive(_ key: String) -> @Sendable (Double) -> String? {
        { $0 > 0 ? nil : "\(key) must be positive" }
    }
}
