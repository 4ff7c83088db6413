// KernelSelection: chooses OpenBLAS's kernels before the library initialises, by re-executing the binary once.
import Foundation
import NN

#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS selects its kernels when the library is loaded, before `main` runs, from `OPENBLAS_CORETYPE` or
/// its own CPU detection. On an AVX-512 CPU that the library does not recognise, `ablate` sets
/// `OPENBLAS_CORETYPE=SkylakeX` and re-executes itself once; a value the user set is always kept.
public enum KernelSelection {
    static let marker = "ABLATE_BLAS_KERNEL_SELECTED"

    /// Re-executes the process with the preferred kernel when needed; returns normally otherwise.
    public static func reexecIfNeeded() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment[marker] == nil,
              let preferred = BLAS.preferredCoreType, BLAS.coreName != preferred
        else { return }
        setenv("OPENBLAS_CORETYPE", preferred, 1)
        setenv(marker, "1", 1)
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
