// ExampleSweepsEndToEndTests: the shipped examples' sweep files, unmodified, plan and run through `ablate local` with a stub `python3`.
import CoordinatorKit
import Foundation
import TestSupport
import XCTest

/// The PyTorch examples (`examples/torch-trainer`, `examples/denoise-params`) run without PyTorch: each test copies
/// an example's directory as it is shipped into `TMP/examples/`, makes a small dataset where the sweep expects it
/// (`examples/data/synth.h5`), and puts a `/bin/sh` stand-in named `python3` first on PATH. The stand-in accepts
/// exactly the command line the sweep gives the real script, checks it against what the worker sets
/// (`ABLATE_OUT`, `ABLATE_SEED`, `ABLATE_PARAM_*`, `params.json`, `ABLATE_STAGE1`, `ABLATE_CONFIG`), fails on
/// anything else, and writes `metrics.jsonl` lines and the sweep's `resume_file` as the script would.
final class ExampleSweepsEndToEndTests: XCTestCase {
    /// The repository's `examples/` directory.
    private static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples").path

    /// Every sweep file under `examples/`, relative to it.
    private static func sweepFiles() throws -> [String] {
        let all = try FileManager.default.subpathsOfDirectory(atPath: examples)
        return all.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("data/") }.sorted()
    }

    /// The words of the first comment line holding `marker`.
    private func commentWords(_ text: String, containing marker: String) -> [String]? {
        text.split(separator: "\n").first { $0.hasPrefix("#") && $0.contains(marker) }.map {
            $0.drop { $0 == "#" || $0 == " " }.split(separator: " ").map(String.init)
        }
    }

    /// Each shipped sweep file parses, its `code:` files exist, it plans every variant × seed (and its stage-1
    /// job), and its comment lines say how to make its dataset and run it from the repository root.
    func testEveryShippedSweepParsesPlansAndSaysHowToRunIt() throws {
        let files = try Self.sweepFiles()
        XCTAssertTrue(files.contains("torch-trainer/sweep.yaml"), "\(files)")
        XCTAssertTrue(files.contains("denoise-params/sweep.yaml"), "\(files)")
        let root = URL(fileURLWithPath: Self.examples).deletingLastPathComponent().path
        for file in files {
            let path = Self.examples + "/" + file
            let sweep = try Sweep.load(path: path)
            let code = try CodeFiles.records(for: sweep, sweepDirectory: Sweep.directory(ofFile: path))
            for variant in sweep.variants where variant.command != nil {
                XCTAssertFalse(code[variant.name]?.files.isEmpty ?? true, "\(file): \(variant.name) hashes its script")
            }
            let plan = try SweepPlan.make(
                sweep, datasetContentHash: String(repeating: "ab", count: 32),
                stage1CheckpointSHA256: String(repeating: "cd", count: 32), code: code)
            let stage1Jobs: Int
            if case .train = sweep.stage1 { stage1Jobs = 1 } else { stage1Jobs = 0 }
            XCTAssertEqual(plan.cells.count, sweep.variants.count * sweep.seeds.count + stage1Jobs, file)

            let text = try String(contentsOfFile: path, encoding: .utf8)
            let synth = try XCTUnwrap(commentWords(text, containing: "ablate data synth"), file)
            let out = try XCTUnwrap(synth.firstIndex(of: "-o").map { synth[$0 + 1] }, file)
            XCTAssertEqual(sweep.datasetPath, root + "/" + out, "\(file): the synth line makes the sweep's dataset")
            let run = try XCTUnwrap(commentWords(text, containing: "ablate local"), file)
            XCTAssertEqual(run.firstIndex(of: "-s").map { run[$0 + 1] }, "examples/" + file, file)
        }
    }

    /// `examples/torch-trainer/sweep.yaml`: a native stage-1 job, then the five losses × 3 seeds through the
    /// stand-in, judged on macro-F1 (higher is better, in pp) with a verdict row per variant.
    func testTheTorchTrainerSweepRunsAsShipped() throws {
        let directory = try prepare(example: "torch-trainer")
        let state = directory.file("state")
        let run = try AblateBinary.run(
            ["local", "--sweep", directory.file("examples/torch-trainer/sweep.yaml"), "--state", state, "-w", "2"],
            environment: ["PATH": directory.file("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)

        let report = try Self.report(state)
        let metric = try XCTUnwrap(report["metric"] as? [String: Any])
        XCTAssertEqual(metric["name"] as? String, "val_macro_f1")
        XCTAssertEqual(metric["goal"] as? String, "max")
        XCTAssertEqual(try XCTUnwrap(report["cells"] as? [Any]).count, 15, "\(report["warnings"] ?? [])")
        let verdicts = try Self.verdicts(report)
        XCTAssertEqual(
            verdicts,
            [
                "cb_focal": "baseline", "focal_gamma3": "equivalent", "poly": "better", "asymmetric": "worse",
                "focal_smoothing": "equivalent",
            ])
        for variant in ["focal_gamma3", "poly", "asymmetric", "focal_smoothing"] {
            let row = run.stdout.split(separator: "\n").first { $0.hasPrefix("| \(variant) |") }
            XCTAssertNotNil(row, "a verdict row for \(variant): \(run.stdout)")
        }
        // Each cell ran what its variant's settings say: `--loss-type {loss}` and the loss's γ from ABLATE_CONFIG.
        for (variant, loss, gamma) in [
            ("cb_focal", "cb_focal", "2"), ("focal_gamma3", "cb_focal", "3"), ("poly", "poly", ""),
        ] {
            let metrics = try String(contentsOfFile: "\(state)/runs/\(variant)/seed-2/metrics.jsonl", encoding: .utf8)
            XCTAssertTrue(metrics.contains("\"loss_type\": \"\(loss)\", \"gamma\": \"\(gamma)\""), metrics)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: "\(state)/runs/\(variant)/seed-2/last.pt"),
                "the sweep's resume_file streams back")
        }
    }

    /// `examples/denoise-params/sweep.yaml`: four variants of the script's own params × 3 seeds, judged on
    /// `val_rmse` (lower is better, in levels, threshold 0.25).
    func testTheDenoiseSweepIsJudgedOnItsLowerIsBetterMetric() throws {
        let directory = try prepare(example: "denoise-params")
        let state = directory.file("state")
        let run = try AblateBinary.run(
            ["local", "--sweep", directory.file("examples/denoise-params/sweep.yaml"), "--state", state, "-w", "2"],
            environment: ["PATH": directory.file("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("Metric `val_rmse`: lower is better;"), run.stdout)
        XCTAssertTrue(run.stdout.contains("| Δ val_rmse (levels) |"), run.stdout)

        let report = try Self.report(state)
        let metric = try XCTUnwrap(report["metric"] as? [String: Any])
        XCTAssertEqual(metric["name"] as? String, "val_rmse")
        XCTAssertEqual(metric["goal"] as? String, "min")
        XCTAssertEqual(metric["unit"] as? String, "levels")
        XCTAssertEqual(try XCTUnwrap(report["cells"] as? [Any]).count, 12, "\(report["warnings"] ?? [])")
        XCTAssertEqual(
            try Self.verdicts(report),
            ["base": "baseline", "lr_3e-3": "better", "wide": "equivalent", "deep": "worse"])
        let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("| lr_3e-3 |") }, run.stdout)
        XCTAssertTrue(row.contains("**better**"), String(row))
        let cells = try XCTUnwrap(report["cells"] as? [[String: Any]])
        for cell in cells where cell["variant"] as? String == "wide" {
            let params = try XCTUnwrap(cell["params"] as? [String: Any])
            XCTAssertEqual(params["channels"] as? Int, 32)
            XCTAssertEqual(params["depth"] as? Int, 3, "the train block's params, merged per name")
        }
    }

    // MARK: - helpers

    /// A temporary directory with `examples/<example>` copied as shipped, `examples/data/synth.h5` and the
    /// stand-in `bin/python3`.
    private func prepare(example: String) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: directory.file("examples/data"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.examples + "/" + example, toPath: directory.file("examples/" + example))
        let synth = try AblateBinary.run([
            "data", "synth", "--out", directory.file("examples/data/synth.h5"), "--train", "1200", "--val", "300",
            "--seed", "5",
        ])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        directory.write("bin/python3", text: Self.standIn)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: directory.file("bin/python3"))
        return directory
    }

    private static func report(_ state: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(state)/report.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Each variant's verdict (`baseline` for the baseline).
    private static func verdicts(_ report: [String: Any]) throws -> [String: String] {
        let variants = try XCTUnwrap(report["variants"] as? [[String: Any]])
        var verdicts: [String: String] = [:]
        for variant in variants {
            let name = try XCTUnwrap(variant["name"] as? String)
            verdicts[name] =
                variant["is_baseline"] as? Bool == true ? "baseline" : (variant["verdict"] as? String) ?? "none"
        }
        return verdicts
    }

    /// `python3 SCRIPT ARGS…` for the two examples' scripts. Values are in units of 1e-4 (macro-F1) or 1e-3
    /// levels (RMSE); each variant has its own offset and a small per-seed slope, so the paired differences
    /// have a spread and the verdicts are decided.
    private static let standIn = #"""
        #!/bin/sh
        # A stand-in for python3 that speaks the examples' command lines without PyTorch.
        fail() { echo "stand-in python3: $*" >&2; exit 9; }
        script=$(basename "$1"); shift
        grep -q '^{' "$ABLATE_OUT/params.json" || fail "no params.json"
        step() { # step EPOCH: the resume file first, then the epoch's line
          printf 'epoch %s\n' "$1" > "$out/last.pt.tmp" && mv "$out/last.pt.tmp" "$out/last.pt"
        }
        case "$script" in
        train.py)
          while [ $# -gt 0 ]; do
            case "$1" in
              --loss-type) loss=$2 ;; --seed) seed=$2 ;; --output-dir) out=$2 ;; --model) model=$2 ;;
              --epochs) epochs=$2 ;; --batch-size|--lr-adapter|--lr-head) [ -n "$2" ] || fail "$1 without value" ;;
              *) fail "unexpected argument $1" ;;
            esac
            shift 2
          done
          [ "$out" = "$ABLATE_OUT" ] || fail "--output-dir $out is not ABLATE_OUT $ABLATE_OUT"
          [ "$seed" = "$ABLATE_SEED" ] || fail "--seed $seed is not ABLATE_SEED $ABLATE_SEED"
          [ "$model" = "$ABLATE_PARAM_MODEL" ] || fail "--model $model is not ABLATE_PARAM_MODEL $ABLATE_PARAM_MODEL"
          [ -f "$ABLATE_STAGE1" ] || fail "no stage-1 checkpoint at '$ABLATE_STAGE1'"
          [ -f "$ABLATE_DATASET" ] || fail "no dataset at '$ABLATE_DATASET'"
          gamma=$(printf '%s' "$ABLATE_CONFIG" | sed -n 's/.*"gamma" *: *\([0-9]*\).*/\1/p')
          case "$loss" in
            poly|asymmetric|focal_smoothing) gamma=$([ "$loss" = focal_smoothing ] && echo "$gamma") ;;
          esac
          case "$loss/$gamma" in
            cb_focal/2) top=60; k=0 ;; cb_focal/3) top=60; k=1 ;; poly/) top=70; k=2 ;;
            asymmetric/) top=50; k=3 ;; focal_smoothing/2) top=60; k=4 ;;
            *) fail "unexpected loss $loss with gamma '$gamma'" ;;
          esac
          e=1
          while [ "$e" -le "$epochs" ]; do
            v=$((top * 100 + seed * 10 + seed * k - (epochs - e) * 50))
            step "$e"
            echo "{\"epoch\": $e, \"val_macro_f1\": 0.$v, \"loss_type\": \"$loss\", \"gamma\": \"$gamma\"}" >> "$out/metrics.jsonl"
            e=$((e + 1))
          done
          ;;
        denoise.py)
          while [ $# -gt 0 ]; do
            case "$1" in
              --seed) seed=$2 ;; --out) out=$2 ;; --epochs) epochs=$2 ;; --channels) channels=$2 ;;
              --depth) depth=$2 ;; --lr) lr=$2 ;; --noise) noise=$2 ;;
              *) fail "unexpected argument $1" ;;
            esac
            shift 2
          done
          [ "$out" = "$ABLATE_OUT" ] || fail "--out $out is not ABLATE_OUT $ABLATE_OUT"
          [ "$seed" = "$ABLATE_SEED" ] || fail "--seed $seed is not ABLATE_SEED $ABLATE_SEED"
          [ "$channels/$depth/$lr/$noise" = "$ABLATE_PARAM_CHANNELS/$ABLATE_PARAM_DEPTH/$ABLATE_PARAM_LR/$ABLATE_PARAM_NOISE" ] ||
            fail "flags $channels/$depth/$lr/$noise differ from the ABLATE_PARAM_* variables"
          grep -q "\"channels\":$channels,\"depth\":$depth,\"lr\":$lr,\"noise\":$noise}" "$ABLATE_OUT/params.json" ||
            fail "params.json $(cat "$ABLATE_OUT/params.json")"
          case "$channels/$depth/$lr" in
            16/3/0.001) base=12000; k=0 ;; 16/3/0.003) base=11000; k=5 ;; 32/3/0.001) base=12050; k=3 ;;
            16/5/0.001) base=12600; k=7 ;; *) fail "unexpected params $channels/$depth/$lr" ;;
          esac
          e=1
          while [ "$e" -le "$epochs" ]; do
            v=$((base + seed * 10 + seed * k + (epochs - e) * 400))
            step "$e"
            echo "{\"epoch\": $e, \"val_rmse\": $((v / 1000)).$(printf %03d $((v % 1000)))}" >> "$out/metrics.jsonl"
            e=$((e + 1))
          done
          ;;
        *) fail "unexpected script $script" ;;
        esac

        """#
}
