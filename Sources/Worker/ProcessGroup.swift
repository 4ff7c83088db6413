// ProcessGroup: starting a program in its own process group (posix_spawn), waiting for it, ending the group.
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A process call that failed, with what was attempted and the errno text.
public struct ProcessGroupError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How a process ended.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// From a `waitpid` status word (the WIFEXITED / WEXITSTATUS / WTERMSIG encoding).
    init(waitStatus status: Int32) {
        let signal = status & 0x7F
        self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    /// The shell's convention: the exit code, or 128 + the signal number.
    public var shellCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}

/// The few process calls a command job needs, each wrapped once with a typed error. No `fork()`: children are
/// started with `posix_spawn`, with default signal dispositions and an empty signal mask (a worker ignores
/// SIGINT/SIGTERM itself; its commands must not inherit that).
public enum ProcessGroup {
    /// Starts `argv` (`argv[0]` is looked up in PATH when it has no `/`) and returns its pid.
    /// - Parameters:
    ///   - environment: the complete environment of the new process.
    ///   - output: a file that receives stdout and stderr (created, appended to); nil keeps the caller's.
    ///   - newGroup: start a new process group whose id is the new pid.
    ///   - directory: the directory the process starts in (after `output` is opened); nil keeps the caller's.
    public static func spawn(
        _ argv: [String], environment: [String: String], output: String?, newGroup: Bool = true,
        directory: String? = nil
    ) throws(ProcessGroupError) -> pid_t {
        guard let program = argv.first, !program.isEmpty else {
            throw ProcessGroupError("cannot start an empty command")
        }
        #if os(Linux)
            var attributes = posix_spawnattr_t()
            var actions = posix_spawn_file_actions_t()
        #else
            var attributes: posix_spawnattr_t?
            var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)
        if newGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let directory {
            let added = withUnsafeMutablePointer(to: &actions) {
                SpawnDirectory.add(UnsafeMutableRawPointer($0), directory)
            }
            guard added == 0 else {
                throw ProcessGroupError("cannot start \(program) in \(directory): \(String(cString: strerror(added)))")
            }
        }

        let arguments = argv.map { strdup($0) } + [nil]
        let variables = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for argument in arguments { free(argument) }
            for variable in variables { free(variable) }
        }
        var pid: pid_t = 0
        let result =
            program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, arguments, variables)
            : posix_spawnp(&pid, program, &actions, &attributes, arguments, variables)
        guard result == 0 else {
            throw ProcessGroupError("cannot start \(program): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The exit status of `pid` if it has ended (and reaps it), nil while it runs.
    public static func poll(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return ExitStatus(waitStatus: status) }
            if result == -1 && errno == EINTR { continue }
            // 0: still running; -1 (ECHILD): not our child or already reaped.
            return result == 0 ? nil : .exited(-1)
        }
    }

    /// Whether any living process (not a zombie) of group `group` remains.
    public static func groupExists(_ group: pid_t) -> Bool {
        guard kill(-group, 0) == 0 || errno == EPERM else { return false }
        #if os(Linux)
            return !members(of: group).isEmpty
        #else
            return true
        #endif
    }

    /// The living processes of `group`, from `/proc/<pid>/stat` (zombies left out: they hold no resources and an
    /// init that does not reap would keep them forever).
    public static func members(of group: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let state = processState(pid), state.group == group, state.code != "Z" else {
                return nil
            }
            return pid
        }
    }

    /// The state letter and process group of `pid` (nil when it is gone).
    public static func processState(_ pid: pid_t) -> (code: Character, group: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let code = fields[0].first, let group = pid_t(fields[2]) else { return nil }
        return (code, group)
    }

    /// Sends `signal` to every process of `group`; false when the group no longer exists.
    @discardableResult
    public static func signal(group: pid_t, _ signal: Int32) -> Bool {
        kill(-group, signal) == 0
    }

    /// Ends group `group`: SIGTERM, up to `grace` seconds for it to go, then SIGKILL. `leader` (a child of the
    /// caller) is reaped on the way and its status returned.
    @discardableResult
    public static func terminate(group: pid_t, leader: pid_t?, grace: Double) -> ExitStatus? {
        var status: ExitStatus?
        signal(group: group, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if let leader, status == nil { status = poll(leader) }
            if (leader == nil || status != nil) && !groupExists(group) { return status }
            usleep(20_000)
        }
        signal(group: group, SIGKILL)
        if let leader, status == nil {
            status = waitBlocking(leader)
        }
        return status
    }

    /// Waits for `pid` to end and reaps it.
    public static func waitBlocking(_ pid: pid_t) -> ExitStatus {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, 0)
            if result == pid { return ExitStatus(waitStatus: status) }
            if result == -1 && errno == EINTR { continue }
            return .exited(-1)
        }
    }
}
