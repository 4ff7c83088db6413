// The `ablate` binary: hands the command line to the command tree in AblateCLI.
import AblateCLI

@main
enum AblateMain {
    static func main() {
        KernelSelection.reexecIfNeeded()
        Ablate.main()
    }
}
