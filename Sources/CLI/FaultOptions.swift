// FaultOptions: the hidden `--fault-pause PHASE:N --fault-marker FILE` options of coordinator and worker (test seam).
import AblateSupport
import ArgumentParser

/// Arms `FaultPoint` for the fault-injection matrix (docs/fault-injection.md); hidden from `--help`.
struct FaultOptions: ParsableArguments {
    @Option(name: .customLong("fault-pause"), help: .hidden) var pause: String?
    @Option(name: .customLong("fault-marker"), help: .hidden) var marker: String?

    func validate() throws {
        guard let pause else { return }
        guard FaultPoint.parse(pause) != nil else {
            let phases = FaultPhase.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError(
                "--fault-pause '\(pause)': expected PHASE or PHASE:N with PHASE one of \(phases) and N ≥ 1")
        }
        guard marker != nil else { throw ValidationError("--fault-pause needs --fault-marker FILE") }
    }

    /// Arms the point when asked (call before any thread that reaches it starts).
    func arm() {
        guard let pause, let marker, let (phase, occurrence) = FaultPoint.parse(pause) else { return }
        FaultPoint.shared.arm(phase, occurrence: occurrence, marker: marker)
    }
}
