// BadInputTests: bad files, settings and endpoints given to the commands fail at once with one plain line naming
// the file, key or option, and leave nothing behind.
import CoordinatorKit
import DatasetKit
import Foundation
import HDF5Kit
import TestSupport
import Testing

@Suite("bad input to the commands", .serialized)
struct BadInputTests {
    static let dir = TemporaryDirectory("ablate-cli-bad-input")
    static let data = dir.file("d.h5")
    static let stage1 = dir.file("stage1/best.h5")
    static let prepared: Bool = {
        let synth = try? AblateBinary.run([
            "data", "synth", "--out", data, "--train", "400", "--val", "100", "--seed", "1",
        ])
        let train = try? AblateBinary.run([
            "train", "--data", data, "--stage", "1", "--out", dir.file("stage1"), "--width", "16",
            "--epochs", "1", "--batch-size", "64", "--max-train-rows", "128", "--max-val-rows", "64",
        ])
        return synth?.status == 0 && train?.status == 0
    }()

    /// Arguments of a one-epoch width-16 training run on `data` into `out`.
    static func train(_ data: String, out: String, stage: String = "1", extra: [String] = []) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try AblateBinary.run(
            [
                "train", "--data", data, "--stage", stage, "--out", out, "--width", "16", "--epochs", "1",
                "--batch-size", "32",
                "--max-train-rows", "64", "--max-val-rows", "32", "--cache-dir", dir.file("cache"),
            ] + extra)
    }

    /// A copy of `source` named `name` with `edit` applied through HDF5Kit.
    static func copy(_ source: String, to name: String, edit: (H5File) throws -> Void) throws -> String {
        let path = dir.file(name)
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: source, toPath: path)
        let file = try H5File.open(path, writable: true)
        try edit(file)
        try file.close()
        return path
    }

    static func expectOneLine(
        _ result: (status: Int32, stdout: String, stderr: String), _ needle: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.stderr.contains(needle), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(
            !result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("Error Domain"),
            "\(result.stderr)",
            sourceLocation: sourceLocation)
    }

    // MARK: - ablate train / predict

    @Test func trainRefusesADatasetChangedAfterWriting() throws {
        #expect(Self.prepared)
        let changed = try Self.copy(Self.data, to: "changed.h5") { file in
            var labels = try file.dataset("val/labels").read(as: UInt8.self)
            labels[0] = (labels[0] + 1) % 10
            try file.dataset("val/labels").write(labels)
        }
        let out = Self.dir.file("out-changed")
        let result = try Self.train(changed, out: out)
        Self.expectOneLine(result, "\(changed): content hash does not match the stored content_sha256")
        #expect(
            !FileManager.default.fileExists(atPath: out), "a run that failed before its first epoch leaves no directory"
        )
    }

    @Test func trainRefusesALabelOutsideZeroToNine() throws {
        #expect(Self.prepared)
        let bad = try Self.copy(Self.data, to: "label200.h5") { file in
            var labels = try file.dataset("train/labels").read(as: UInt8.self)
            labels[5] = 200
            try file.dataset("train/labels").write(labels)
        }
        // The stored hash is brought up to date, so that the label is what is wrong.
        let hash = try DatasetFile(path: bad).computeContentHash()
        let file = try H5File.open(bad, writable: true)
        try file.setAttribute("content_sha256", hash)
        try file.close()
        let result = try Self.train(bad, out: Self.dir.file("out-label"))
        Self.expectOneLine(result, "\(bad): /train/labels row 5: label 200 is outside 0–9")
        let predict = try AblateBinary.run([
            "predict", "--checkpoint", Self.stage1, "--data", bad, "--split", "train", "--out",
            Self.dir.file("p200.h5"),
        ])
        Self.expectOneLine(predict, "label 200 is outside 0–9")
    }

    @Test func trainRefusesANonEmptyOutputDirectory() throws {
        #expect(Self.prepared)
        Self.dir.write("busy/notes.txt", text: "another run's files")
        let result = try Self.train(Self.data, out: Self.dir.file("busy"))
        Self.expectOneLine(result, "\(Self.dir.file("busy")): the output directory is not empty")
        #expect(Self.dir.entries("busy") == ["notes.txt"])
        let unwritable = try Self.train(Self.data, out: "/proc/forbidden/x")
        Self.expectOneLine(unwritable, "/proc/forbidden/x: cannot create the directory /proc/forbidden")
        let file = try Self.train(Self.data, out: Self.data)
        Self.expectOneLine(file, "\(Self.data): exists and is not a directory")
    }

    @Test func aStage1CheckpointWithANaNWeightIsNamed() throws {
        #expect(Self.prepared)
        let poisoned = try Self.copy(Self.stage1, to: "nan.h5") { file in
            let model = try file.group("model")
            let name = try #require(
                try model.memberNames().first { $0.hasPrefix("backbone.") && $0.hasSuffix("weight") })
            var values = try model.dataset(name).read(as: Float.self)
            values[0] = .nan
            try model.dataset(name).write(values)
        }
        let predictions = Self.dir.file("nan-pred.h5")
        let predict = try AblateBinary.run([
            "predict", "--checkpoint", poisoned, "--data", Self.data, "--out", predictions,
        ])
        Self.expectOneLine(predict, "\(poisoned): tensor backbone.")
        #expect(predict.stderr.contains("holds NaN or infinite values"), "\(predict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: predictions))
        let train = try Self.train(
            Self.data, out: Self.dir.file("out-nan"), stage: "2", extra: ["--stage1-checkpoint", poisoned])
        Self.expectOneLine(train, "\(poisoned): tensor backbone.")
        #expect(!train.stderr.contains("diverged"), "\(train.stderr)")
    }

    // MARK: - ablate coordinator / worker / local

    /// A small valid sweep over the prepared files; `edit` changes its text.
    static func sweep(_ name: String, edit: (String) -> String = { $0 }) -> String {
        dir.write(
            name,
            text: edit(
                """
                name: bad-input
                dataset: \(data)
                stage1_checkpoint: \(stage1)
                baseline: a
                seeds: [1, 2]
                train: {width: 16, epochs: 1, max_train_rows: 64, max_val_rows: 32, batch_size: 32}
                variants:
                  a: {loss: cb_focal, gamma: 2.0}
                  b: {loss: cb_focal, gamma: 3.0}

                """))
        return dir.file(name)
    }

    static func coordinator(_ sweep: String, state: String, bind: String = "tcp://127.0.0.1:*") throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try Subprocess.capture(
            "/usr/bin/timeout",
            ["60", AblateBinary.path, "coordinator", "--sweep", sweep, "--state", state, "--bind", bind])
    }

    @Test func nonFiniteSettingsAreRefusedAtTheirLine() throws {
        #expect(Self.prepared)
        let sweep = Self.sweep("inf.yaml") { $0.replacingOccurrences(of: "gamma: 3.0", with: "gamma: .inf") }
        let state = Self.dir.file("state-inf")
        let result = try Self.coordinator(sweep, state: state)
        Self.expectOneLine(result, "\(sweep):9: variants.b.gamma: gamma must be a finite number")
        #expect(!FileManager.default.fileExists(atPath: state))
    }

    @Test func aTruncatedStage1CheckpointIsRefusedAtPlanning() throws {
        #expect(Self.prepared)
        let bytes = try #require(FileManager.default.contents(atPath: Self.stage1))
        Self.dir.write("truncated.h5", bytes: Array(bytes.prefix(bytes.count / 2)))
        let sweep = Self.sweep("truncated.yaml") {
            $0.replacingOccurrences(of: Self.stage1, with: Self.dir.file("truncated.h5"))
        }
        let state = Self.dir.file("state-truncated")
        let result = try Self.coordinator(sweep, state: state)
        Self.expectOneLine(
            result, "\(sweep):3: stage1_checkpoint: \(Self.dir.file("truncated.h5")): not an HDF5 file, or truncated")
        #expect(!FileManager.default.fileExists(atPath: state), "no planned state directory is left behind")
        // A checkpoint whose backbone the cells cannot load (another width) is refused at planning too.
        let wider = Self.sweep("wider.yaml") { $0.replacingOccurrences(of: "{width: 16,", with: "{width: 32,") }
        Self.expectOneLine(
            try Self.coordinator(wider, state: state),
            "\(wider):3: stage1_checkpoint: \(Self.stage1): is a width-16 stage-1 model but variants a, b use width 32")
        #expect(!FileManager.default.fileExists(atPath: state))
    }

    @Test func sweepFileProblemsNameTheFileAndKey() throws {
        #expect(Self.prepared)
        let state = Self.dir.file("state-files")
        let missing = Self.sweep("missing-data.yaml") {
            $0.replacingOccurrences(of: Self.data, with: Self.dir.file("missing.h5"))
        }
        Self.expectOneLine(
            try Self.coordinator(missing, state: state),
            "\(missing):2: dataset: \(Self.dir.file("missing.h5")): no such file")
        Self.expectOneLine(
            try Self.coordinator(Self.dir.file("nowhere.yaml"), state: state),
            "\(Self.dir.file("nowhere.yaml")): cannot read the sweep file: no such file")
        Self.dir.write("latin1.yaml", bytes: Array("name: caf".utf8) + [0xE9] + Array("\n".utf8))
        Self.expectOneLine(
            try Self.coordinator(Self.dir.file("latin1.yaml"), state: state),
            "latin1.yaml:1: the sweep file is not UTF-8 text")
        #expect(!FileManager.default.fileExists(atPath: state))
        Self.dir.write("state-file", text: "not a directory")
        Self.expectOneLine(
            try Self.coordinator(Self.sweep("ok.yaml"), state: Self.dir.file("state-file")),
            "\(Self.dir.file("state-file")): exists and is not a directory")
    }

    @Test func badEndpointsFailAtOnceAndLeaveNoState() throws {
        #expect(Self.prepared)
        let sweep = Self.sweep("endpoint.yaml")
        let state = Self.dir.file("state-bind")
        let port = try Self.coordinator(sweep, state: state, bind: "tcp://127.0.0.1:99999")
        Self.expectOneLine(port, "--bind tcp://127.0.0.1:99999: port '99999' must be a number from 1 to 65535")
        #expect(!FileManager.default.fileExists(atPath: state))
        // A bind that fails after planning (no such directory for the socket) removes the planned state.
        let unbindable = try Self.coordinator(sweep, state: state, bind: "ipc://\(Self.dir.file("no-such-dir/c.sock"))")
        Self.expectOneLine(unbindable, "cannot listen")
        #expect(!FileManager.default.fileExists(atPath: state), "the planned state directory is removed")
        // An existing state directory keeps what it held, and only that.
        Self.dir.write("state-kept/keep.txt", text: "mine")
        _ = try Self.coordinator(
            sweep, state: Self.dir.file("state-kept"), bind: "ipc://\(Self.dir.file("no-such-dir/c.sock"))")
        #expect(Self.dir.entries("state-kept") == ["keep.txt"])

        let worker = try Subprocess.capture(
            "/usr/bin/timeout",
            ["30", AblateBinary.path, "worker", "--connect", "foo", "--work-dir", Self.dir.file("w")])
        Self.expectOneLine(worker, "--connect foo")
        #expect(worker.status != 124, "the worker gave up at once instead of retrying")
        Self.dir.write("work-file", text: "not a directory")
        let workDir = try Subprocess.capture(
            "/usr/bin/timeout",
            [
                "30", AblateBinary.path, "worker", "--connect", "tcp://127.0.0.1:9", "--work-dir",
                Self.dir.file("work-file"),
            ])
        Self.expectOneLine(workDir, "--work-dir \(Self.dir.file("work-file")): exists and is not a directory")
        let workers = try AblateBinary.run([
            "local", "--sweep", sweep, "--workers", "-1", "--state", Self.dir.file("state-local"),
        ])
        Self.expectOneLine(workers, "--workers must be at least 1, got -1")
        #expect(!FileManager.default.fileExists(atPath: Self.dir.file("state-local")))
    }

    @Test func calibrationInputsAreOneLine() throws {
        let missing = try AblateBinary.run(["bench", "calibration", "--state", Self.dir.file("no-such-state")])
        Self.expectOneLine(missing, "\(Self.dir.file("no-such-state")): no such state directory")
        let design = try AblateBinary.run([
            "bench", "calibration", "--state", Self.dir.file("no-such-state"), "--adaptive", "5:3",
        ])
        #expect(design.status != 0)
        #expect(design.stderr.contains("--adaptive: initial:max with 2 ≤ initial ≤ max"), "\(design.stderr)")
    }
}
