import AblateSupport
// ExecGuardCommand: `ablate exec-guard` (hidden), runs a worker's command in its own process group and ends the
// whole group when the worker goes away, cancels it, or the guard is told to stop.
import ArgumentParser
import Foundation
import WorkerKit

/// Started by a worker around each user command. It starts the command in a new process group, then every 50 ms
/// checks: the command ended (the rest of its group is ended too, and the guard exits with the command's status:
/// its exit code, or 128 + the signal that killed it); SIGTERM or SIGINT arrived (the worker cancels it or times it
/// out); its parent is no longer `--parent` (the worker died, even by SIGKILL). In the last two cases the whole
/// group gets SIGTERM, then SIGKILL after `--grace-s`, and the guard exits with 143.
struct ExecGuardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-guard",
        abstract: "Run a command in its own process group that ends with the given parent process (used by workers).",
        shouldDisplay: false)

    @Option(help: "Pid of the worker the command must not outlive.") var parent: Int32
    @Option(name: .customLong("pid-file"), help: "File that receives the command's pid (= its process group id).")
    var pidFile: String?
    @Option(name: .customLong("grace-s"), help: "Seconds between SIGTERM and SIGKILL when ending the group.")
    var grace = 5.0
    @Option(help: "Directory the command starts in (default: the guard's own).") var chdir: String?
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --") }
        guard grace >= 0 else { throw ValidationError("--grace-s must not be negative") }
    }

    func run() throws {
        let stop = StopSignal()
        // The parent may have died between spawning the guard and now: then nothing is started.
        guard getppid() == parent else { throw ExitCode(143) }
        let environment = ProcessInfo.processInfo.environment
        let pid: pid_t
        do {
            pid = try ProcessGroup.spawn(command, environment: environment, output: nil, directory: chdir)
        } catch {
            FileHandle.standardError.write(Data("ablate exec-guard: \(error)\n".utf8))
            throw ExitCode(127)
        }
        if let pidFile { try? AtomicFile.write(Array("\(pid)\n".utf8), to: pidFile, overwrite: .replace) }
        while true {
            if let status = ProcessGroup.poll(pid) {
                // Whatever the command left running in its group ends with it.
                if ProcessGroup.groupExists(pid) { ProcessGroup.terminate(group: pid, leader: nil, grace: grace) }
                throw ExitCode(status.shellCode)
            }
            let orphaned = getppid() != parent
            if stop.isRaised || orphaned {
                let why = orphaned ? "the worker (pid \(parent)) is gone" : "asked to stop"
                FileHandle.standardError.write(Data("ablate exec-guard: \(why); ending process group \(pid)\n".utf8))
                ProcessGroup.terminate(group: pid, leader: pid, grace: grace)
                throw ExitCode(143)
            }
            usleep(50_000)
        }
    }
}
