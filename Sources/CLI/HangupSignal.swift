// HangupSignal: SIGHUP turned into a flag the coordinator's loop takes (handled on a private dispatch queue).
import Dispatch
import Foundation
import Synchronization

/// Catches SIGHUP while it lives; `take()` returns true once per batch of hangups since the last call.
final class HangupSignal {
    private let raised = Mutex(false)
    private let queue = DispatchQueue(label: "ablate.sighup")
    private var source: DispatchSourceSignal?

    init() {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        source.setEventHandler { [weak self] in self?.raise() }
        source.resume()
        self.source = source
    }

    deinit { source?.cancel() }

    private func raise() { raised.withLock { $0 = true } }

    /// True when SIGHUP arrived since the last call.
    func take() -> Bool {
        raised.withLock { value in
            defer { value = false }
            return value
        }
    }
}
