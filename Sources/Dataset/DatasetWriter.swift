// DatasetWriter: writes a Dataset as an Ablate dataset file, atomically (temporary file, fsync, rename).
import AblateSupport
import HDF5Kit

/// Writes dataset files in format version 1.
public enum DatasetWriter {
    /// Writes `dataset` to `path`; with `overwrite == false` an existing file is an error and is left untouched.
    /// Returns the content hash, which is also stored as the root attribute `content_sha256`.
    @discardableResult
    public static func write(_ dataset: Dataset, to path: String, overwrite: Bool) throws -> String {
        let hash = dataset.contentHash()
        let b = dataset.attributes.blockSize
        try AtomicFile.write(to: path, overwrite: overwrite ? .replace : .fail) { temporary in
            let file = try H5File.create(temporary, mode: .truncate)
            let a = dataset.attributes
            try file.setAttribute("format", DatasetFormat.name)
            try file.setAttribute("format_version", DatasetFormat.version)
            try file.setAttribute("block_size", a.blockSize)
            try file.setAttribute("bit_depth", a.bitDepth)
            try file.setAttribute("source", a.source)
            try file.setAttribute("split_seed", a.splitSeed)
            try file.setAttribute("val_fraction", a.valFraction)
            try file.setAttribute("content_sha256", hash)
            for (key, value) in dataset.extraAttributes.sorted(by: { $0.key < $1.key }) {
                try file.setAttribute(key, value)
            }
            for name in DatasetFormat.splits {
                guard let split = dataset.split(name) else { continue }
                let group = try file.createGroup(name)
                try group.writeDataset("blocks", split.blocks, shape: [split.count, b, b])
                try group.writeDataset("labels", split.labels, shape: [split.count])
                try group.writeDataset("qp", split.qp, shape: [split.count])
            }
            try file.close()
        }
        return hash
    }
}
