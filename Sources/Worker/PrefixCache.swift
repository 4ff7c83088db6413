// PrefixCache: the frozen prefix's output per block, computed once and stored on disk (HDF5), keyed and validated.
import AblateSupport
import DatasetKit
import Foundation
import HDF5Kit
import Logging
import NN
import RunSpec

/// Exact frozen-prefix feature cache. When every module before the first adapter is frozen and in eval mode and
/// the input is not augmented, the prefix's output is a fixed function of the block (and, because forward passes
/// are per-row functions — see `BLAS.rowPadding` — bit for bit the value training would compute). It is computed
/// once per key and shared by every epoch, variant and seed on the host.
///
/// The key covers the dataset content hash, the stage-1 checkpoint hash, the prefix definition (stage, width,
/// last prefix stage), the rows used, and the OpenBLAS kernel. It is built with OpenBLAS single-threaded in each of
/// the run's threads (`ParallelBatches`), so runs with any `--threads` share it. The file stores a SHA-256 of
/// its features; a file whose key or checksum does not match is rebuilt, never used.
public enum PrefixCache {
    public static let formatName = "ablate-prefix-cache"
    public static let formatVersion: Int64 = 1

    /// Why the cache cannot be used for `config`, or nil when it can.
    public static func inapplicability(_ config: TrainingConfig) -> String? {
        if !config.stage.usesAdapters { return "stage 1 trains the whole backbone" }
        if config.backboneBN == .train {
            return "backbone_bn: train updates the backbone's batch statistics every batch"
        }
        if config.adapterLayers.contains(1) { return "an adapter on layer1 leaves no frozen prefix worth caching" }
        return nil
    }

    /// The default cache directory: `$ABLATE_CACHE_DIR`, else `$XDG_CACHE_HOME/ablate`, else `~/.cache/ablate`.
    public static func defaultDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["ABLATE_CACHE_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/ablate" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/ablate"
    }

    /// The text whose SHA-256 names the cache file.
    public static func keyText(
        config: TrainingConfig, lastStage: Int, datasetHash: String, stage1Hash: String, trainRows: Int, valRows: Int
    ) -> String {
        [
            "ablate-prefix-cache-v1",
            "dataset \(datasetHash)",
            "stage1 \(stage1Hash)",
            "stage \(config.stage.rawValue) width \(config.width) prefix stem+layer1…layer\(lastStage + 1) eval",
            "rows train \(trainRows) (max \(config.maxTrainRows.map(String.init) ?? "all")) val \(valRows) (max \(config.maxValRows.map(String.init) ?? "all"))",
            "blas \(BLAS.coreName), one OpenBLAS thread per batch",
        ].joined(separator: "\n")
    }

    /// The prefix outputs of `train` and `val` (row-major, `rowShape` per row), from the cache or freshly built.
    public static func features(
        model: PartitionModel, train: StageData, val: StageData, keyText: String, directory: String, threads: Int = 1,
        logger: Logger, progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> (train: [Float], val: [Float], rowShape: [Int]) {
        let path = "\(directory)/prefix-\(SHA256Hex.of(Array(keyText.utf8)).prefix(32)).h5"
        if FileManager.default.fileExists(atPath: path) {
            do {
                let cached = try read(path, keyText: keyText, trainRows: train.count, valRows: val.count)
                logger.info("frozen-prefix cache: using \(path)")
                return cached
            } catch {
                logger.warning("frozen-prefix cache: \(path) is stale or corrupt (\(error)); rebuilding")
            }
        }
        let start = Date()
        let total = train.count + val.count
        let trainFeatures = try compute(model, train, threads: threads) { progress?($0, total) }
        let valFeatures = try compute(model, val, threads: threads) { progress?(train.count + $0, total) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let rowShape = trainFeatures.rowShape
        try AtomicFile.write(to: path, overwrite: .replace) { temporary in
            let file = try H5File.create(temporary, mode: .truncate)
            try file.setAttribute("format", formatName)
            try file.setAttribute("format_version", formatVersion)
            try file.setAttribute("key", keyText)
            try file.setAttribute("features_sha256", checksum(trainFeatures.values, valFeatures.values))
            try file.writeDataset("train", trainFeatures.values, shape: [train.count] + rowShape)
            try file.writeDataset("val", valFeatures.values, shape: [val.count] + rowShape)
            try file.close()
        }
        let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
        logger.info(
            "frozen-prefix cache: built \(path) (\(train.count) + \(val.count) rows × \(rowShape.reduce(1, *)) floats) in \(seconds) s"
        )
        return (trainFeatures.values, valFeatures.values, rowShape)
    }

    /// The prefix output of every row, in batches of 256 (eval mode) spread over `threads` threads; 64 batches
    /// at a time, so the per-batch outputs never hold more than 16 MiB beside the result.
    static func compute(
        _ model: PartitionModel, _ data: StageData, threads: Int, progress: (_ rowsDone: Int) -> Void = { _ in }
    ) throws -> (values: [Float], rowShape: [Int]) {
        let batchRows = 256
        let batches = (data.count + batchRows - 1) / batchRows
        let shared = ParallelBatches.Shared(model)
        var values: [Float] = []
        var rowShape: [Int] = []
        for first in stride(from: 0, to: batches, by: 64) {
            FaultPoint.shared.reach(.prefixCache)
            progress(min(data.count, first * batchRows))
            let outputs = ParallelBatches.map(count: min(64, batches - first), threads: threads) { offset -> Tensor? in
                let start = (first + offset) * batchRows
                var (x, _) = data.batch(ArraySlice(start..<min(data.count, start + batchRows)))
                var cache = PartitionModel.Cache()
                let y = shared.value.forwardPrefix(x, cache: &cache)
                // The batch's buffers go back to this thread's pool for its next batch.
                cache.recycle()
                BufferPool.current.recycle(&x)
                return y
            }
            for output in outputs {
                guard let y = output else { throw TrainingError.badConfig("the model has no frozen prefix to cache") }
                if values.isEmpty {
                    rowShape = Array(y.shape.dropFirst())
                    values.reserveCapacity(data.count * rowShape.reduce(1, *))
                }
                values += y.data
            }
        }
        return (values, rowShape)
    }

    /// SHA-256 of each split's float bytes (host byte order: cache files never leave their host).
    static func checksum(_ train: [Float], _ val: [Float]) -> String {
        let digests = [train, val].map { values in values.withUnsafeBytes { SHA256Hex.of($0) } }
        return digests.joined(separator: ":")
    }

    /// Reads and validates a cache file; throws on any mismatch.
    static func read(_ path: String, keyText: String, trainRows: Int, valRows: Int) throws -> (
        train: [Float], val: [Float], rowShape: [Int]
    ) {
        let file = try H5File.open(path)
        guard try file.stringAttribute("format") == formatName,
            try file.integerAttribute("format_version") == formatVersion
        else {
            throw TrainingError.badData("not a prefix cache of this version")
        }
        guard try file.stringAttribute("key") == keyText else { throw TrainingError.badData("its key differs") }
        let train = try file.dataset("train")
        let val = try file.dataset("val")
        guard train.rowCount == trainRows, val.rowCount == valRows, train.shape.dropFirst() == val.shape.dropFirst()
        else {
            throw TrainingError.badData("its row counts differ")
        }
        let trainValues: [Float] = try train.read()
        let valValues: [Float] = try val.read()
        guard checksum(trainValues, valValues) == (try file.stringAttribute("features_sha256")) else {
            throw TrainingError.badData("its features do not match their checksum")
        }
        return (trainValues, valValues, Array(train.shape.dropFirst()))
    }
}
