// StopSignal: SIGINT/SIGTERM turned into a flag that network loops poll (handled on a private dispatch queue).
import Dispatch
import Foundation
import Synchronization

/// Catches SIGINT and SIGTERM once installed; `isRaised` becomes true and stays true.
final class StopSignal: Sendable {
    private let raised = Mutex(false)
    private let queue = DispatchQueue(label: "ablate.signals")
    private let sources = Mutex<[DispatchSourceSignal]>([])

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [raised] in raised.withLock { $0 = true } }
            source.resume()
            sources.withLock { $0.append(source) }
        }
    }

    var isRaised: Bool { raised.withLock { $0 } }
}

/// Writes a line to standard output at once (print is block-buffered into pipes and journals).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
