// Checkpoint: the HDF5 checkpoint format — model tensors under PyTorch state_dict names, optimizer and trainer state.
import AblateSupport
import Foundation
import HDF5Kit
import NN
import RunSpec

/// Constants of the checkpoint format (documented in docs/checkpoint-format.md).
public enum CheckpointFormat {
    public static let name = "ablate-checkpoint"
    public static let version: Int64 = 1
}

/// What a checkpoint holds besides tensors: its root attributes.
public struct CheckpointInfo: Sendable, Equatable {
    /// `full`: every tensor, optimizer and trainer state. `slim`: only what differs from the stage-1 checkpoint.
    public enum Kind: String, Sendable { case full, slim }

    public var kind: Kind
    public var configJSON: String
    public var datasetHash: String
    /// SHA-256 of the stage-1 checkpoint file the backbone came from ("" for Stage 1 runs).
    public var stage1Hash: String
    public var seed: UInt64
    public var epoch: Int
    public var codeVersion: String
    public var blasCore: String
    public var blasThreads: Int
    /// The own GEMM kernel path the run computed with (`GEMMKernel`); nil in checkpoints written before it was
    /// recorded. The paths give the same bits, so a run may resume on another.
    public var gemmKernel: String?

    public init(
        kind: Kind, configJSON: String, datasetHash: String, stage1Hash: String, seed: UInt64, epoch: Int,
        codeVersion: String, blasCore: String, blasThreads: Int, gemmKernel: String? = nil
    ) {
        self.kind = kind
        self.configJSON = configJSON
        self.datasetHash = datasetHash
        self.stage1Hash = stage1Hash
        self.seed = seed
        self.epoch = epoch
        self.codeVersion = codeVersion
        self.blasCore = blasCore
        self.blasThreads = blasThreads
        self.gemmKernel = gemmKernel
    }
}

/// A checkpoint read back into memory.
public struct CheckpointContents {
    public var path: String
    public var info: CheckpointInfo
    public var tensors: [String: (shape: [Int], values: [Float])] = [:]
    public var counters: [String: Int64] = [:]
    public var firstMoment: [String: [Float]] = [:]
    public var secondMoment: [String: [Float]] = [:]
    public var optimizerStep: Int = 0
    public var trainerStateJSON: String?

    /// The run configuration stored in the checkpoint.
    public func config() throws -> TrainingConfig {
        do {
            return try TrainingConfig.fromJSON(info.configJSON)
        } catch {
            throw TrainingError.badCheckpoint(path: path, detail: "its config attribute is not a valid training config")
        }
    }
}

public enum Checkpoint {
    /// Names of the store entries (tensors and counters) a checkpoint of `kind` holds.
    static func includes(
        _ name: String, kind: CheckpointInfo.Kind, model: PartitionModel, backboneBN: TrainingConfig.BatchNormSetting,
        isBuffer: Bool
    ) -> Bool {
        if kind == .full || !model.config.stage.usesAdapters || !name.hasPrefix("backbone.") { return true }
        // A frozen backbone in BatchNorm train mode moves its running statistics: the slim form keeps them.
        return backboneBN == .train && isBuffer
    }

    /// The checkpoint as HDF5 file bytes (built in memory; ready to write or stream).
    public static func encode(
        model: PartitionModel, optimizer: AdamW?, trainerStateJSON: String?, info: CheckpointInfo,
        backboneBN: TrainingConfig.BatchNormSetting
    ) throws -> [UInt8] {
        let file = try H5File.createInMemory()
        try file.setAttribute("format", CheckpointFormat.name)
        try file.setAttribute("format_version", CheckpointFormat.version)
        try file.setAttribute("kind", info.kind.rawValue)
        try file.setAttribute("config", info.configJSON)
        try file.setAttribute("dataset_sha256", info.datasetHash)
        try file.setAttribute("stage1_sha256", info.stage1Hash)
        try file.setAttribute("seed", Int64(bitPattern: info.seed))
        try file.setAttribute("epoch", info.epoch)
        try file.setAttribute("code_version", info.codeVersion)
        try file.setAttribute("blas_core", info.blasCore)
        try file.setAttribute("blas_threads", info.blasThreads)
        if let gemmKernel = info.gemmKernel { try file.setAttribute("gemm_kernel", gemmKernel) }
        let store = model.store
        let group = try file.createGroup("model")
        for (index, entry) in store.entries.enumerated()
        where includes(
            entry.name, kind: info.kind, model: model, backboneBN: backboneBN, isBuffer: entry.kind == .buffer)
        {
            let ref = store.ref(at: index)
            try group.writeDataset(entry.name, store.array(ref), shape: entry.shape)
        }
        for (name, value) in zip(store.counterNames, store.counters)
        where includes(name, kind: info.kind, model: model, backboneBN: backboneBN, isBuffer: true) {
            // Shape [1]: h5py reads it as an array, and PyTorch loads a 1-element tensor into a 0-dim buffer.
            try group.writeDataset(name, [value], shape: [1])
        }
        if let optimizer {
            let moments = try file.createGroup("optimizer")
            try moments.setAttribute("step", optimizer.step)
            let first = try moments.createGroup("exp_avg")
            let second = try moments.createGroup("exp_avg_sq")
            for (entryIndex, _) in optimizer.members {
                let entry = store.entries[entryIndex]
                let range = entry.offset..<(entry.offset + entry.count)
                try first.writeDataset(entry.name, Array(optimizer.firstMoment[range]), shape: entry.shape)
                try second.writeDataset(entry.name, Array(optimizer.secondMoment[range]), shape: entry.shape)
            }
        }
        if let trainerStateJSON {
            let trainer = try file.createGroup("trainer")
            let bytes = Array(trainerStateJSON.utf8)
            try trainer.writeDataset("state_json", bytes, shape: [bytes.count])
        }
        let image = try file.imageBytes()
        try file.close()
        return image
    }

    /// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync of the directory).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try AtomicFile.write(bytes, to: path, overwrite: .replace)
    }

    /// Reads and validates a checkpoint file.
    public static func read(_ path: String) throws -> CheckpointContents {
        let file: H5File
        do {
            file = try H5File.open(path)
        } catch let error as HDF5Error {
            throw TrainingError.badCheckpoint(
                path: path, detail: error.kind == .fileNotFound ? "no such file" : "not an HDF5 file, or truncated")
        }
        func string(_ name: String) throws -> String {
            guard case .string(let value) = try file.attribute(name) else {
                throw TrainingError.badCheckpoint(path: path, detail: "missing root attribute '\(name)'")
            }
            return value
        }
        func integer(_ name: String) throws -> Int64 {
            guard case .integer(let value) = try file.attribute(name) else {
                throw TrainingError.badCheckpoint(path: path, detail: "missing root attribute '\(name)'")
            }
            return value
        }
        let format = (try? string("format")) ?? "missing"
        guard format == CheckpointFormat.name else {
            throw TrainingError.badCheckpoint(path: path, detail: "not an Ablate checkpoint (format '\(format)')")
        }
        let version = try integer("format_version")
        guard version == CheckpointFormat.version else {
            throw TrainingError.badCheckpoint(
                path: path,
                detail:
                    "checkpoint format_version \(version) is not supported (this build reads \(CheckpointFormat.version))"
            )
        }
        guard let kind = CheckpointInfo.Kind(rawValue: try string("kind")) else {
            throw TrainingError.badCheckpoint(path: path, detail: "unknown checkpoint kind")
        }
        let info = CheckpointInfo(
            kind: kind, configJSON: try string("config"), datasetHash: try string("dataset_sha256"),
            stage1Hash: try string("stage1_sha256"), seed: UInt64(bitPattern: try integer("seed")),
            epoch: Int(try integer("epoch")),
            codeVersion: try string("code_version"), blasCore: try string("blas_core"),
            blasThreads: Int(try integer("blas_threads")), gemmKernel: try? string("gemm_kernel"))
        var contents = CheckpointContents(path: path, info: info)
        do {
            let model = try file.group("model")
            for name in try model.memberNames() {
                let dataset = try model.dataset(name)
                switch dataset.elementType {
                case .float32: contents.tensors[name] = (dataset.shape, try dataset.read())
                case .int64: contents.counters[name] = try dataset.read(as: Int64.self).first ?? 0
                default:
                    throw TrainingError.badCheckpoint(
                        path: path, detail: "/model/\(name) has an unexpected element type")
                }
            }
            if try file.contains("optimizer") {
                let optimizer = try file.group("optimizer")
                contents.optimizerStep = Int(try optimizer.integerAttribute("step"))
                for name in try optimizer.group("exp_avg").memberNames() {
                    contents.firstMoment[name] = try optimizer.dataset("exp_avg/\(name)").read()
                    contents.secondMoment[name] = try optimizer.dataset("exp_avg_sq/\(name)").read()
                }
            }
            if try file.contains("trainer/state_json") {
                contents.trainerStateJSON = String(
                    decoding: try file.dataset("trainer/state_json").read(as: UInt8.self), as: UTF8.self)
            }
        } catch let error as HDF5Error {
            throw TrainingError.badCheckpoint(path: path, detail: "\(error.object): \(error.detail)")
        }
        return contents
    }

    /// Copies every tensor of `model` whose name starts with `prefix` from `contents`; all must be present with
    /// matching shapes and finite values, else the error lists what is missing, mismatched or not finite.
    public static func load(_ contents: CheckpointContents, into model: PartitionModel, prefix: String = "") throws {
        let store = model.store
        var missing: [String] = []
        var mismatched: [String] = []
        var nonFinite: [String] = []
        for (index, entry) in store.entries.enumerated() where entry.name.hasPrefix(prefix) {
            guard let tensor = contents.tensors[entry.name] else {
                missing.append(entry.name)
                continue
            }
            guard tensor.shape == entry.shape else {
                mismatched.append("\(entry.name) \(tensor.shape) vs \(entry.shape)")
                continue
            }
            guard tensor.values.allSatisfy(\.isFinite) else {
                nonFinite.append(entry.name)
                continue
            }
            store.set(store.ref(at: index), tensor.values)
        }
        for (index, name) in store.counterNames.enumerated() where name.hasPrefix(prefix) {
            if let value = contents.counters[name] { store.counters[index] = value } else { missing.append(name) }
        }
        if !nonFinite.isEmpty {
            throw TrainingError.badCheckpoint(
                path: contents.path,
                detail:
                    "tensor \(nonFinite.prefix(3).joined(separator: ", "))\(nonFinite.count > 3 ? ", …" : "") holds NaN or infinite values"
            )
        }
        if !missing.isEmpty || !mismatched.isEmpty {
            var parts: [String] = []
            if !missing.isEmpty {
                parts.append(
                    "\(missing.count) tensors missing (\(missing.prefix(3).joined(separator: ", "))\(missing.count > 3 ? ", …" : ""))"
                )
            }
            if !mismatched.isEmpty { parts.append("shape mismatch: \(mismatched.prefix(3).joined(separator: "; "))") }
            throw TrainingError.badCheckpoint(
                path: contents.path,
                detail: parts.joined(separator: "; ")
                    + " for a \(model.config.stage.rawValue) model of width \(model.config.width)")
        }
    }

    /// Loads a slim checkpoint onto a model whose backbone already holds the stage-1 checkpoint: every adapter and
    /// head tensor must be present; backbone tensors it carries (running statistics moved by `backbone_bn: train`)
    /// replace the stage-1 values.
    public static func loadSlim(_ contents: CheckpointContents, into model: PartitionModel) throws {
        try load(contents, into: model, prefix: "adapters.")
        try load(contents, into: model, prefix: "head.")
        let store = model.store
        for (index, entry) in store.entries.enumerated() where entry.name.hasPrefix("backbone.") {
            guard let tensor = contents.tensors[entry.name] else { continue }
            guard tensor.shape == entry.shape else {
                throw TrainingError.badCheckpoint(
                    path: contents.path, detail: "shape mismatch: \(entry.name) \(tensor.shape) vs \(entry.shape)")
            }
            guard tensor.values.allSatisfy(\.isFinite) else {
                throw TrainingError.badCheckpoint(
                    path: contents.path, detail: "tensor \(entry.name) holds NaN or infinite values")
            }
            store.set(store.ref(at: index), tensor.values)
        }
        for (index, name) in store.counterNames.enumerated() where name.hasPrefix("backbone.") {
            if let value = contents.counters[name] { store.counters[index] = value }
        }
    }

    /// Reads a stage-1 checkpoint and loads its backbone into a fresh model of its own config: the checks a stage
    /// 2/3 run makes of its frozen backbone (a readable Ablate checkpoint of stage 1, every backbone tensor present
    /// with its shape and finite), made before any cell is planned on it.
    /// - Returns: the checkpoint's config.
    @discardableResult
    public static func checkStage1(_ path: String) throws -> TrainingConfig {
        let contents = try read(path)
        let config = try contents.config()
        guard config.stage == .stage1 else {
            throw TrainingError.badCheckpoint(
                path: path, detail: "is a stage \(config.stage.rawValue) checkpoint, not stage 1")
        }
        try load(contents, into: PartitionModel(config.model, seed: config.seed), prefix: "backbone.")
        return config
    }

    /// Restores optimizer moments and step.
    public static func load(_ contents: CheckpointContents, into optimizer: AdamW, store: ParameterStore) throws {
        optimizer.step = contents.optimizerStep
        for (entryIndex, _) in optimizer.members {
            let entry = store.entries[entryIndex]
            guard let first = contents.firstMoment[entry.name], let second = contents.secondMoment[entry.name],
                first.count == entry.count, second.count == entry.count
            else {
                throw TrainingError.badCheckpoint(
                    path: contents.path, detail: "optimizer state for \(entry.name) is missing or malformed")
            }
            for i in 0..<entry.count {
                optimizer.firstMoment[entry.offset + i] = first[i]
                optimizer.secondMoment[entry.offset + i] = second[i]
            }
        }
    }
}
