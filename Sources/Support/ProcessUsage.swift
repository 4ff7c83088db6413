// ProcessUsage: this process's CPU time and minor page faults so far (getrusage), and the calling thread's CPU time.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Resource use of the whole process, every thread included (`getrusage(RUSAGE_SELF)`); zeros where unavailable.
public struct ProcessUsage: Sendable {
    /// User + system CPU seconds.
    public var cpuSeconds: Double
    /// Page faults served without I/O (a freshly touched page counts one).
    public var minorPageFaults: Int

    public static func now() -> ProcessUsage {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else {
            return ProcessUsage(cpuSeconds: 0, minorPageFaults: 0)
        }
        let seconds =
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
                usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ProcessUsage(cpuSeconds: seconds, minorPageFaults: usage.ru_minflt)
    }

    /// CPU seconds the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`); 0 where unavailable.
    public static func currentThreadCPUSeconds() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
