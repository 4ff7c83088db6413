// SpawnDirectory: posix_spawn's change-directory file action, looked up at run time (the C library has it, its Swift module does not show it).
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+, macOS 10.15+): the spawned process starts in a directory
/// without the caller changing its own. Looked up once with `dlsym`, since the C library's Swift module hides it.
enum SpawnDirectory {
    private typealias AddChdir = @convention(c) (UnsafeMutableRawPointer, UnsafePointer<CChar>) -> Int32

    private static let function: AddChdir? = {
        #if os(Linux)
            let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #else
            let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #endif
        guard let symbol = dlsym(everywhere, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// Adds "change to `directory`" to the file actions at `actions`: 0, or an errno (ENOSYS when the C library
    /// lacks the call).
    static func add(_ actions: UnsafeMutableRawPointer, _ directory: String) -> Int32 {
        guard let function else { return ENOSYS }
        return directory.withCString { function(actions, $0) }
    }
}
