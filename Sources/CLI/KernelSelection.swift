// KernelSelection: chooses OpenBLAS's kernels before the library initialises, by re-executing the binary once.
import Foundation
import NN

#if canImport(Glibc)
    import Glibc
#endif

/// Only for the OpenBLAS reference (tests, benchmarks, `ablate version`): training runs on Ablate's own GEMM
/// kernels (`GEMMKernel`), whose bits depend on no CPU or kernel family, so the bitwise guarantees do not need
/// this re-execution.
///
/// OpenBLAS selects its kernels when the library is loaded, before `main` runs, from `OPENBLAS_CORETYPE` or
/// its own CPU detection. When `BLAS.nextCoreType` names another family (SkylakeX on an AVX-512 CPU the library
/// does not recognise; a row-invariant family where the loaded one fails that probe), `ablate` sets
/// `OPENBLAS_CORETYPE` and re-executes itself, the families visited carried in `marker`; a value the user set is
/// always kept.
public enum KernelSelection {
    /// Set by `ablate` itself: the families it has re-executed with, comma-separated.
    static let marker = "ABLATE_BLAS_KERNEL_SELECTED"

    /// Re-executes the process with the preferred kernel when needed; returns normally otherwise.
    public static func reexecIfNeeded() {
        let environment = ProcessInfo.processInfo.environment
        let tried = environment[marker].map { $0.split(separator: ",").map(String.init) } ?? []
        let userChose = environment["OPENBLAS_CORETYPE"] != nil && environment[marker] == nil
        guard !userChose else { return }
        let loaded = BLAS.coreName
        guard
            let preferred = BLAS.nextCoreType(
                loaded: loaded, passes: BLAS.kernelIsRowInvariant, avx512: BLAS.cpuHasAVX512,
                fallback: BLAS.rowInvariantFallback, visited: tried),
            preferred != loaded, tried.count < 4
        else { return }
        setenv("OPENBLAS_CORETYPE", preferred, 1)
        setenv(marker, (tried + [loaded, preferred]).joined(separator: ","), 1)
        // Execute the resolved binary (not /proc/self/exe itself) so the process keeps its name ("ablate").
        let executable = ownExecutablePath
        let arguments = CommandLine.arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        pointers.append(nil)
        execv(executable, &pointers)
        // execv returns only on failure: carry on with the kernel OpenBLAS chose.
        for pointer in pointers { free(pointer) }
    }
}

/// This process's executable, resolved from `/proc/self/exe` (for re-executing it and starting child `ablate`
/// processes: workers, coordinators, command guards).
var ownExecutablePath: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
}
