// WorkerCore+Connection: the worker's side of a session — HELLO, heartbeats, resends on a new session.
import WireProtocol

extension WorkerCore {

    mutating func perform(_ linkActions: [LinkAction]) -> [WorkerAction] {
        var actions: [WorkerAction] = []
        for action in linkActions {
            switch action {
            case .reopenSocket:
                actions.append(.reopenSocket)
            case .sendHello:
                actions.append(
                    .send(
                        .hello(
                            Hello(
                                worker: options.name, incarnation: incarnation, host: host, threads: options.threads,
                                gpu: options.gpu,
                                slots: options.slots, codeVersion: options.codeVersion, blasCore: blasCore,
                                resuming: progress, gpus: helloGPUs, label: options.label))))
            case .sendHeartbeat:
                actions += send(.heartbeat(Heartbeat(progress: progress)))
            case .sessionStarted(let welcome):
                chunkBytes = welcome.chunkBytes
                window = welcome.window
                for cell in jobs.keys.sorted() {
                    guard let messages = jobs[cell]?.outbox.resendAll() else { continue }
                    actions += sendAll(messages)
                }
                for sha in downloads.keys.sorted() {
                    actions.append(.resumeDownload(sha256: sha, window: window, chunkBytes: chunkBytes))
                }
            case .sweepFinished:
                // No job held can count any more. Exiting, the graceful stop cancels them and waits for their threads.
                if options.exitWhenFinished {
                    if !exitRequested { actions.append(.log("the sweep is finished; exiting")) }
                    exitRequested = true
                } else {
                    for cell in jobs.keys.sorted() { actions += drop(cell, because: "the sweep is finished") }
                    for sha in downloads.keys.sorted() { actions += closeDownload(sha) }
                }
            case .log(let line, let level):
                actions.append(.log(line, level: level))
            }
        }
        return actions
    }
    var progress: [JobProgress] { jobs.values.map(\.outbox.progress).sorted { $0.cell < $1.cell } }
    /// A message the protocol needs delivered, after the fault-injection point that precedes it.
    mutating func send(_ message: Message) -> [WorkerAction] {
        switch message {
        case .metrics:
            metricsAwaitOffer = true
        case .offer where metricsAwaitOffer:
            metricsAwaitOffer = false
            return [.reachFault(.metricsBeforeCheckpoint), .send(message)]
        case .done:
            return [.reachFault(.beforeDone), .send(message)]
        default:
            break
        }
        return [.send(message)]
    }
    mutating func sendAll(_ messages: [Message]) -> [WorkerAction] { messages.flatMap { send($0) } }
}
