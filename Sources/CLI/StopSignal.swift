// StopSignal: SIGINT/SIGTERM turned into a flag that network loops poll (handled on a private dispatch queue).
import Dispatch
import Foundation
import WorkerKit

/// Catches SIGINT and SIGTERM while it lives; `isRaised` becomes true and stays true.
final class StopSignal {
    private let flag = CancelFlag()
    private let queue = DispatchQueue(label: "ablate.signals")
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [flag] in flag.set() }
            source.resume()
            sources.append(source)
        }
    }

    var isRaised: Bool { flag.isSet }
}

/// Writes a line to standard output at once (print is block-buffered into pipes and journals).
func emit(_ line: String) {
    // A line that cannot be written (a full disk under a redirected output) is lost, never fatal.
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}
