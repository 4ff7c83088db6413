// Ablate: the root command of the `ablate` binary and its subcommand table.
import ArgumentParser

/// `ablate`: run, watch and judge ablation studies of the AV1 partition CNN.
public struct Ablate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Run machine-learning ablation studies across machines and judge them statistically.",
        subcommands: [
            LocalCommand.self, CoordinatorCommand.self, WorkerCommand.self, StatusCommand.self, ReportCommand.self,
            DataCommand.self,
            TrainCommand.self, PredictCommand.self, BenchCommand.self, KeygenCommand.self, VersionCommand.self,
            ExecGuardCommand.self,
            LedgerCommand.self, SettingsCommand.self, SlurmCommand.self, RetryCommand.self, SweepsCommand.self,
            CancelCommand.self, ResumeCommand.self, ExtendCommand.self, SubmitCommand.self,
        ])

    /// Only at the top level: subcommands do not list `--version`.
    @Flag(help: "Show the version.") var version = false

    public init() {}

    public func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(AblateVersion.string)
    }
}
