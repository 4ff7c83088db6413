// BLASTests: OpenBLAS sgemm (every transpose combination, odd shapes) against the plain-loop reference.
import Foundation
import NN
import Testing

@Suite("BLAS")
struct BLASTests {
    /// Deterministic pseudo-random values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 1, 130), (2, 75, 4)])
    func sgemmMatchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = Self.values(m * k, seed: 1)
                let b = Self.values(k * n, seed: 2)
                var expected = Self.values(m * n, seed: 3)
                var actual = expected
                ReferenceOps.sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2,
                    c: &expected)
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        actual.withUnsafeMutableBufferPointer { pc in
                            guard let a = pa.baseAddress, let b = pb.baseAddress, let c = pc.baseAddress else { return }
                            BLAS.sgemm(
                                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: a,
                                b: b, beta: 2, c: c)
                        }
                    }
                }
                let maxDiff = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(
                    maxDiff <= 1e-5 * Float(k),
                    "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB): max |diff| \(maxDiff)")
            }
        }
    }

    @Test func runtimeReportsCoreAndThreads() {
        #expect(!BLAS.coreName.isEmpty && BLAS.coreName != "unknown")
        let before = BLAS.threadCount
        BLAS.setThreadCount(2)
        #expect(BLAS.threadCount == 2)
        #expect(BLAS.libraryThreadCount == 1, "OpenBLAS itself stays single-threaded; Ablate splits the work")
        BLAS.setThreadCount(1)
        #expect(BLAS.threadCount == 1)
        BLAS.setThreadCount(before)
    }

    /// The cpuid probe agrees with the kernel's view of the CPU (Linux /proc/cpuinfo flags).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/cpuinfo"), "SKIPPED: no /proc/cpuinfo"))
    func avx512DetectionMatchesCPUInfo() throws {
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(
            info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let expected = ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(flags.contains)
        #expect(BLAS.cpuHasAVX512 == expected)
        #expect(BLAS.cpuHasAVX == flags.contains("avx"))
        // SkylakeX on AVX-512 CPUs; elsewhere the loaded kernels unless they fail the row-invariance probe.
        if expected && BLAS.coreName != "SkylakeX" {
            #expect(BLAS.preferredCoreType == "SkylakeX")
        } else {
            #expect(BLAS.preferredCoreType == (BLAS.kernelIsRowInvariant ? nil : BLAS.rowInvariantFallback))
        }
    }

    /// The chains of re-executions on the CPUs met so far all end on a row-invariant family, and SkylakeX, once
    /// rejected, is never chosen again (an Intel Xeon whose auto-detected SkylakeX fails the probe used to end on it).
    @Test func kernelChainsEndOnARowInvariantFamily() {
        func chain(start: String, passing: Set<String>, avx512: Bool) -> [String] {
            var loaded = start, visited: [String] = [], path = [start]
            while let next = BLAS.nextCoreType(
                loaded: loaded, passes: passing.contains(loaded), avx512: avx512,
                fallback: "Sandybridge", visited: visited), path.count < 6
            {
                visited += [loaded, next]
                loaded = next
                path.append(next)
            }
            return path
        }
        // Intel Xeon (AVX-512), OpenBLAS detects SkylakeX, which fails: Sandybridge, and no return to SkylakeX.
        #expect(chain(start: "SkylakeX", passing: ["Sandybridge"], avx512: true) == ["SkylakeX", "Sandybridge"])
        // AMD EPYC with AVX-512: Zen fails, SkylakeX fails, Sandybridge.
        #expect(chain(start: "Zen", passing: ["Sandybridge"], avx512: true) == ["Zen", "SkylakeX", "Sandybridge"])
        // Intel where SkylakeX passes: from Haswell (which passes) to the faster SkylakeX.
        #expect(
            chain(start: "Haswell", passing: ["Haswell", "SkylakeX", "Sandybridge"], avx512: true) == [
                "Haswell", "SkylakeX",
            ])
        // AMD without AVX-512 (Zen 3): Zen fails, Sandybridge.
        #expect(chain(start: "Zen", passing: ["Sandybridge"], avx512: false) == ["Zen", "Sandybridge"])
        // Already row-invariant without AVX-512: kept.
        #expect(chain(start: "Haswell", passing: ["Haswell"], avx512: false) == ["Haswell"])
    }
}
