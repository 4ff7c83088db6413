// IdlePriority: puts the calling thread in Linux's SCHED_IDLE class, so it runs only on otherwise idle CPU.
#if canImport(Glibc)
    import Glibc
#endif

/// For background work that must never slow the work it reports on (the report refresh beside training
/// workers on the same cores): a SCHED_IDLE thread gets a CPU only when nothing else wants it.
public enum IdlePriority {
    /// `SCHED_IDLE` from `<linux/sched.h>` (not exported to Swift by Glibc).
    private static let schedIdle: Int32 = 5

    /// Moves the calling thread (not the process) to SCHED_IDLE; returns whether the system accepted it.
    /// Elsewhere than on Linux it does nothing and returns false.
    @discardableResult
    public static func applyToCurrentThread() -> Bool {
        #if os(Linux)
            var parameters = sched_param()
            parameters.sched_priority = 0
            return sched_setscheduler(0, schedIdle, &parameters) == 0
        #else
            return false
        #endif
    }

    /// Whether the calling thread runs in SCHED_IDLE.
    public static var isCurrentThreadIdle: Bool {
        #if os(Linux)
            return sched_getscheduler(0) == schedIdle
        #else
            return false
        #endif
    }
}
