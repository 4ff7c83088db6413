// The `ablate` binary: installs the log handler, then hands the command line to the command tree in AblateCLI.
import AblateCLI
import AblateLog
import Foundation

@main
enum AblateMain {
    static func main() {
        KernelSelection.reexecIfNeeded()
        // Once per process, before any logger exists: every command's log lines take AblateLogHandler's form.
        AblateLogging.bootstrap()
        if let message = HelpTopics.unknownTopic(in: Array(CommandLine.arguments.dropFirst())) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            exit(64)
        }
        Ablate.main()
    }
}
