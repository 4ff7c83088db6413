// CancelCommand: `ablate cancel` and `ablate resume`, stopping a running sweep's cells and letting them run again.
import ArgumentParser

/// Stops the running cells of a sweep (or one variant) and keeps its cells from being assigned until `ablate resume`;
/// nothing is deleted: a resumed cell continues from its last checkpoint, and no attempt of its budget is spent.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Stop a running sweep's cells (or one variant's) until `ablate resume`; nothing is lost.")

    @Argument(help: "The sweep's name.") var name: String
    @Option(help: "Only this variant.") var variant: String?
    @OptionGroup var control: ControlOptions

    func run() throws { try control.run(.cancel, sweep: name, variant: variant) }
}

/// Lifts `ablate cancel`: the sweep's (or the variant's) cells are assigned again.
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Let a cancelled sweep's cells (or one variant's) run again.")

    @Argument(help: "The sweep's name.") var name: String
    @Option(help: "Only this variant.") var variant: String?
    @OptionGroup var control: ControlOptions

    func run() throws { try control.run(.resume, sweep: name, variant: variant) }
}
