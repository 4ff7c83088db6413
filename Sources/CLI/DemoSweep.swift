// DemoSweep: the synthetic dataset and the sweep file that `ablate local --demo` runs.
import AblateSupport
import DatasetKit
import Foundation
import Logging
import RunSpec

/// A small but complete study: a Stage-1 job on a synthetic dataset (narrow backbone, width 16), then the five
/// losses of the research's loss ablation × 2 seeds on its frozen backbone. Sized for a few minutes on 2 cores.
enum DemoSweep {
    /// Writes `DIR/block16.h5` and `DIR/sweep.yaml` unless they exist (so a rerun resumes); returns the sweep path.
    static func prepare(in directory: String, logger: Logger) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let datasetPath = "\(directory)/block16.h5"
        if !FileManager.default.fileExists(atPath: datasetPath) {
            let dataset = SyntheticGenerator(blockSize: 16).dataset(train: 24_000, val: 6_000, seed: 42)
            let hash = try DatasetWriter.write(dataset, to: datasetPath, overwrite: false)
            logger.info(
                "demo dataset: 30,000 synthetic 16×16 blocks → \(datasetPath) (content sha256 \(hash.prefix(12))…)")
        }
        let sweepPath = "\(directory)/sweep.yaml"
        if !FileManager.default.fileExists(atPath: sweepPath) {
            try AtomicFile.write(Array(text(datasetPath: datasetPath).utf8), to: sweepPath)
            logger.info("demo sweep: \(sweepPath)")
        }
        return sweepPath
    }

    static func text(datasetPath: String) -> String {
        """
        # The demo study of `ablate local --demo`: the five losses of the loss ablation, 2 seeds each, on the frozen
        # backbone of a small Stage-1 job trained first. Narrow backbone (width 16) and few epochs, so it runs in
        # minutes on 2 cores; the research scale is examples/exp04-loss-ablation.yaml.
        name: demo-loss-ablation
        dataset: \(datasetPath)
        stage1: {epochs: 4, width: 16, seed: 42, max_train_rows: 8000, max_val_rows: 3000}
        baseline: cb_focal
        seeds: [42, 43]
        train: {width: 16, epochs: 5, max_train_rows: 12000, max_val_rows: 3000, backbone_bn: eval}
        variants:
          cb_focal:        {loss: cb_focal, gamma: 2.0, beta: 0.9999}
          focal_gamma3:    {loss: cb_focal, gamma: 3.0}
          poly:            {loss: poly, epsilon: 1.0}
          asymmetric:      {loss: asymmetric, gamma_pos: 2.0, gamma_neg: 4.0}
          focal_smoothing: {loss: focal_smoothing, gamma: 2.0, smoothing: 0.1}
        significance: {threshold_pp: 1.0}

        """
    }
}
