// CellIdentityCompatibilityTests: the ids of a fixed sweep, as the release before the settings table computed them.
import CoordinatorKit
import RunSpec
import XCTest

/// A state directory must resume with no cell redone after an upgrade: every id below was written into a ledger by
/// the `ablate` release that preceded the settings table (its `local` command, on this sweep and a dataset with
/// this content hash). The sweep touches every loss, its parameters, a stage-1 job, the `train` block, list and
/// enum settings, a command with placeholders and a replica.
final class CellIdentityCompatibilityTests: XCTestCase {
    static let sweep = """
        name: identity
        dataset: data.h5
        stage1: {epochs: 4, width: 16, seed: 42, max_train_rows: 8000}
        baseline: cb_focal
        seeds: [1, 2]
        train: {width: 16, epochs: 5, max_train_rows: 12000, max_val_rows: 3000}
        variants:
          cb_focal: {loss: cb_focal, gamma: 2.0, beta: 0.9999}
          poly: {loss: poly, epsilon: 0.5, lr_adapter: 0.0005}
          asym: {loss: asymmetric, gamma_pos: 1, gamma_neg: 3, backbone_bn: train}
          smooth: {loss: focal_smoothing, smoothing: 0.2, adapter_layers: [4], adapter_reduction: 8}
          ce: {loss: ce, sampler: shuffle, weight_decay: 0.05, scheduler_patience: 3, early_stopping_patience: 4}
          cmd: {command: ["python3", "train.py", "--seed", "{seed}", "--lr", "{lr_adapter}", "--out", "{out}"], lr_adapter: 0.002}
          cb_focal_aa: {replica_of: cb_focal}
        """
    static let datasetContentHash = "859dfed4f3aa1deb58582a8a43814ede2045c726a0f7f3b1297597171216bb54"

    /// `variant seed id`, in plan order, from the earlier release's ledger.
    static let releasedIDs = """
        stage1 42 e4cd4743b535eabf56f5ad02332764d31d744abef92d29337da7eddff0e0aecb
        cb_focal 1 d00323fdf444d6273eeb8714099a17393b9856309a19247fe3428dcf85b29368
        cb_focal 2 8cf8019584410ef3f12ff7c89bd032b077cb1016650f4780aa991564fa62c73c
        poly 1 8cd646dedb406a2427d4e23115e4cc583070c1e52361a9cb3c5b3c64217fe3ab
        poly 2 637702f3f7ba6bcff1cf1df3bfbd20bbd0847f78475e5b3b25d6992b0f9fc230
        asym 1 8ffd863e8d0fe553edfb6a59f287e487adb5a228dc333ea1f3e900b92ec430c3
        asym 2 8e56df95a4dd7e9f7031fa18ad115ae595456cbbbe643f53925b3063c7c924a5
        smooth 1 6efe425bab36fb0df068b088fe6eef571ea70a12aabe5a7e3c08284c6c1603f4
        smooth 2 d90890ce42d02b12485f095afbc22f274039de3e20b326ae6ea3c39c3a9a3a9e
        ce 1 9c4af69424a62e847197a22a4cb5ec7d7fe97c796b19d2ae2275f97a0018611c
        ce 2 0765fa72b3cea3caa51def03a2208e28f6e9e4cc739f459c17b87d6a16d195c2
        cmd 1 b8cce879dc3ffa4c93de219f824f6b4f6f75734fbb86a5023d327e852a2a39fc
        cmd 2 498d853a36132b9a77b72dc491517d81b554f7e6349135763678999fc791b2cb
        cb_focal_aa 1569448618 274cad3426106cf42e01eb4a6a5a528dc7c8b8bada7de73b3205b7c204a5fe9c
        cb_focal_aa 63545957 7789c3c1d366adb464c3d203fe66526806ab6a49a59b7b06683b44a4e21b5b0f
        """

    func testIdsOfTheEarlierReleaseAreUnchanged() throws {
        let sweep = try Sweep.parse(text: Self.sweep, sourceName: "identity.yaml")
        let plan = try SweepPlan.make(sweep, datasetContentHash: Self.datasetContentHash, stage1CheckpointSHA256: nil)
        let planned = plan.cells.map { "\($0.variant) \($0.seed) \($0.id)" }
        let released = Self.releasedIDs.split(separator: "\n").map(String.init)
        XCTAssertEqual(planned.count, released.count)
        for (now, then) in zip(planned, released) { XCTAssertEqual(now, then) }
        XCTAssertEqual(CellIdentity.schema, 1, "a new schema must keep this list valid or say why not")
    }
}
