// DataCommandTests: `ablate data synth|inspect|import` as a user runs them: exit codes, one-line errors, no debris.
import DatasetKit
import Foundation
import NN
import TestSupport
import Testing

@Suite("ablate data (end to end)")
struct DataCommandTests {
    @Test func synthThenInspect() throws {
        let dir = TemporaryDirectory()
        let out = dir.file("synth.h5")
        let synth = try AblateBinary.run([
            "data", "synth", "--out", out, "--train", "3000", "--val", "800", "--seed", "5",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        #expect(synth.stdout.contains("generated 3800 blocks"))
        let hash = try DatasetFile(path: out).computeContentHash()
        #expect(synth.stdout.contains(hash))

        let inspect = try AblateBinary.run(["data", "inspect", out])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("ablate-dataset"))
        #expect(inspect.stdout.contains("\(hash) (matches the stored content_sha256)"))
        #expect(inspect.stdout.contains("train       3000"))
        #expect(inspect.stdout.contains("val         800"))
        #expect(inspect.stdout.contains("stage 2 train:"))
        #expect(dir.entries() == ["synth.h5"])
    }

    /// On a terminal `data synth` redraws one progress line (erase, text, carriage return); in a pipe it stays
    /// quiet. The terminal is a pseudo-terminal from util-linux's `script`; without it the terminal half is skipped.
    @Test func synthProgressLineOnlyOnATerminal() throws {
        let dir = TemporaryDirectory()
        let piped = try AblateBinary.run(["data", "synth", "-o", dir.file("p.h5"), "--train", "20000", "--val", "100"])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(!piped.stderr.contains("\u{1B}[K") && !piped.stdout.contains("\u{1B}[K"), "no control codes in a pipe")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let command = "'\(AblateBinary.path)' data synth -o '\(dir.file("t.h5"))' --train 60000 --val 100"
        let terminal = try Subprocess.capture("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.stderr)")
        #expect(terminal.stdout.contains("\u{1B}[K  synth "), "\(terminal.stdout.prefix(300))")
        #expect(terminal.stdout.contains("of 60100 rows"), "\(terminal.stdout.prefix(300))")
        #expect(terminal.stdout.contains("generated 60100 blocks"))
    }

    /// Same seed → same content hash, through the binary.
    @Test func synthIsDeterministic() throws {
        let dir = TemporaryDirectory()
        for name in ["a.h5", "b.h5"] {
            let result = try AblateBinary.run([
                "data", "synth", "--out", dir.file(name), "--train", "500", "--val", "100",
            ])
            #expect(result.status == 0)
        }
        #expect(
            try DatasetFile(path: dir.file("a.h5")).computeContentHash()
                == DatasetFile(path: dir.file("b.h5")).computeContentHash())
    }

    @Test func existingOutputNeedsForce() throws {
        let dir = TemporaryDirectory()
        let out = dir.file("keep.h5")
        dir.write("keep.h5", text: "do not touch")
        let result = try AblateBinary.run(["data", "synth", "--out", out, "--train", "10", "--val", "10"])
        #expect(result.status != 0)
        Self.expectOneLineError(result.stderr, mentioning: [out, "already exists", "--force"])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "do not touch")
        let forced = try AblateBinary.run(["data", "synth", "--out", out, "--train", "10", "--val", "10", "--force"])
        #expect(forced.status == 0)
        #expect(dir.entries() == ["keep.h5"])
    }

    /// `--out` into directories that do not exist yet: they are made; a refused write leaves none of them behind.
    @Test func outputDirectoriesAreMadeAndUnmade() throws {
        let dir = TemporaryDirectory()
        let out = dir.file("data/deeper/synth.h5")
        let made = try AblateBinary.run(["data", "synth", "-o", out, "--train", "10", "--val", "10"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
        // A path naming a directory (trailing slash) fails at the write: the directory this run made is gone again.
        let refused = try AblateBinary.run([
            "data", "synth", "-o", dir.file("other/x") + "/", "--train", "10", "--val", "10",
        ])
        #expect(refused.status != 0)
        #expect(dir.entries() == ["data"])
    }

    @Test func importThroughTheBinary() throws {
        let raw = TemporaryDirectory("ablate-raw")
        var bytes: [UInt8] = []
        for i in 0..<(10 * 256) { bytes += [UInt8(i % 200), 0] }
        raw.write("intra_raw_blocks/Seq_sample_16.txt", bytes: bytes)
        raw.write("labels/Seq_labels_16_intra.txt", text: (0..<10).map { "\($0 % 8)" }.joined(separator: "\n"))
        raw.write("qps/Seq_qps_16_intra.txt", text: String(repeating: "80\n", count: 10))
        let out = TemporaryDirectory()
        let result = try AblateBinary.run([
            "data", "import", "--raw", raw.path, "--block-size", "16", "--out", out.file("d.h5"),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("imported 10 blocks (train 8, val 2)"))
        #expect(try DatasetFile(path: out.file("d.h5")).rowCounts == ["train": 8, "val": 2])
    }

    /// A bad raw input fails with one line naming file and position, and leaves nothing in the output directory.
    @Test func badImportLeavesNothingBehind() throws {
        let raw = TemporaryDirectory("ablate-raw")
        raw.write("intra_raw_blocks/Seq_sample_16.txt", bytes: [UInt8](repeating: 0, count: 3 * 512))
        raw.write("labels/Seq_labels_16_intra.txt", text: "1\n2\nx3\n")
        raw.write("qps/Seq_qps_16_intra.txt", text: "80\n80\n80\n")
        let out = TemporaryDirectory()
        let result = try AblateBinary.run(["data", "import", "--raw", raw.path, "--out", out.file("d.h5")])
        #expect(result.status != 0)
        Self.expectOneLineError(
            result.stderr, mentioning: ["Seq_labels_16_intra.txt", "line 3", "'x3' is not an integer"])
        #expect(out.entries().isEmpty)
    }

    @Test func inspectRejectsForeignFiles() throws {
        let dir = TemporaryDirectory()
        dir.write("notes.h5", text: "plain text")
        let result = try AblateBinary.run(["data", "inspect", dir.file("notes.h5")])
        #expect(result.status != 0)
        Self.expectOneLineError(result.stderr, mentioning: ["notes.h5", "not an HDF5 file"])
        let missing = try AblateBinary.run(["data", "inspect", dir.file("absent.h5")])
        #expect(missing.status != 0)
        Self.expectOneLineError(missing.stderr, mentioning: ["absent.h5", "no such file"])
    }

    @Test func versionListsTheLibraries() throws {
        let result = try AblateBinary.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("libzmq 4.3"))
        #expect(result.stdout.contains("hdf5 1."))
        #expect(result.stdout.contains("openblas core"))
    }

    /// `version` names the selected and supported GEMM kernel paths; `--kernel` refuses an unknown path in one
    /// line with exit 64 (before anything starts).
    @Test func gemmKernelChoice() throws {
        let version = try AblateBinary.run(["version"])
        #expect(version.stdout.contains("gemm kernel \(GEMMKernel.best) (supported: "), "\(version.stdout)")
        for command in [["train", "--data", "absent.h5", "--out", "unused"], ["bench", "train"]] {
            let result = try AblateBinary.run(command + ["--kernel", "sse9"])
            #expect(result.status == 64, "\(command): \(result.status) \(result.stderr)")
            Self.expectOneLineError(result.stderr, mentioning: ["--kernel", "sse9", "supported here"])
        }
    }

    /// On an AVX-512 CPU the binary tries OpenBLAS's SkylakeX kernels itself, and anywhere it ends on kernels
    /// that pass the row-invariance probe (re-executing with Sandybridge or Prescott where OpenBLAS's own choice,
    /// e.g. Zen, or SkylakeX fails it). A user's OPENBLAS_CORETYPE wins, and `version` says when it is not
    /// row-invariant.
    @Test func kernelSelection() throws {
        let auto = try AblateBinary.run(
            ["version"], environment: ["OPENBLAS_CORETYPE": nil, "ABLATE_BLAS_KERNEL_SELECTED": nil])
        if BLAS.cpuHasAVX512 {
            let skylake = try AblateBinary.run(["version"], environment: ["OPENBLAS_CORETYPE": "SkylakeX"])
            let expected =
                skylake.stdout.contains("openblas core SkylakeX (row-invariant;")
                ? "SkylakeX" : BLAS.rowInvariantFallback
            #expect(auto.stdout.contains("openblas core \(expected)"), "\(auto.stdout)")
        } else {
            #expect(!auto.stdout.contains("SkylakeX"))
        }
        #expect(auto.stdout.contains("(row-invariant;"), "\(auto.stdout)")
        let chosen = try AblateBinary.run(["version"], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(chosen.stdout.contains("openblas core Haswell"), "\(chosen.stdout)")
        let prescott = try AblateBinary.run(["version"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(prescott.stdout.contains("openblas core Prescott (row-invariant;"), "\(prescott.stdout)")
    }

    /// The benchmark runs end to end and prints every figure (a smoke test: nothing here is timed or compared).
    @Test func benchmarkRuns() throws {
        let dir = TemporaryDirectory()
        let result = try AblateBinary.run([
            "bench", "train", "--seconds", "0.01", "--cache-rows", "256", "--no-torch", "--json",
            dir.file("bench.json"),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        for figure in [
            "training samples/s, prefix cache", "training samples/s, no cache", "inference samples/s", "cache build:",
            "sgemm GFLOP/s",
        ] {
            #expect(result.stdout.contains(figure), "\(figure) missing")
        }
        let json = try String(contentsOfFile: dir.file("bench.json"), encoding: .utf8)
        #expect(json.contains("\"train_samples_per_second_cached\""))
    }

    static func expectOneLineError(
        _ stderr: String, mentioning parts: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "expected one line on stderr, got: \(stderr)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(stderr.contains(part), "stderr lacks '\(part)': \(stderr)", sourceLocation: sourceLocation)
        }
    }
}
