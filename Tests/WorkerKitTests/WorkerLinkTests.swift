// WorkerLinkTests: the worker's connection state machine under a manual clock — heartbeats, expiry, backoff.
import WireProtocol
import WorkerKit
import XCTest

/// Checks WorkerLink against docs/protocol.md "Sessions and heartbeats" with hand-fed times (seconds).
final class WorkerLinkTests: XCTestCase {
    let welcome = Message.welcome(
        Welcome(
            session: "1-1", coordinatorIncarnation: "1", heartbeatMs: 1000, liveness: 5, chunkBytes: 262_144, window: 4)
    )

    func testStartSaysHelloAndWelcomeStartsASession() {
        var link = WorkerLink()
        XCTAssertEqual(link.start(now: 0), [.reopenSocket, .sendHello])
        XCTAssertFalse(link.isConnected)
        let actions = link.received(welcome, now: 0.1)
        XCTAssertTrue(actions.contains { if case .sessionStarted = $0 { true } else { false } })
        XCTAssertTrue(link.isConnected)
    }

    func testAnUndeliveredMessageReopensTheSessionOnlyWhileConnected() {
        var link = WorkerLink()
        XCTAssertEqual(link.start(now: 0), [.reopenSocket, .sendHello])
        XCTAssertEqual(link.undelivered(now: 0.05), [], "before WELCOME nothing is owed to a session")
        _ = link.received(welcome, now: 0.1)
        let actions = link.undelivered(now: 2)
        XCTAssertEqual(Array(actions.suffix(2)), [.reopenSocket, .sendHello])
        XCTAssertFalse(link.isConnected)
        XCTAssertEqual(link.phase, .helloSent)
        XCTAssertTrue(
            link.received(welcome, now: 2.1).contains { if case .sessionStarted = $0 { true } else { false } },
            "the next WELCOME starts a session, which resends what is unacknowledged")
    }

    func testHeartbeatsOncePerIntervalWhileConnected() {
        var link = WorkerLink()
        _ = link.start(now: 0)
        _ = link.received(welcome, now: 0)
        XCTAssertEqual(link.tick(now: 0.5), [])
        XCTAssertEqual(link.tick(now: 1.0), [.sendHeartbeat])
        XCTAssertEqual(link.tick(now: 1.5), [])
        link.sent(now: 1.9)
        XCTAssertEqual(link.tick(now: 2.5), [], "any message sent counts as a heartbeat")
        XCTAssertEqual(link.tick(now: 2.9), [.sendHeartbeat])
    }

    func testSilentCoordinatorMeansReconnectWithDoublingBackoff() {
        var link = WorkerLink()
        _ = link.start(now: 0)
        _ = link.received(welcome, now: 0)
        _ = link.received(.heartbeat(Heartbeat()), now: 4)
        XCTAssertFalse(link.tick(now: 8.9).contains(.reopenSocket))
        let expired = link.tick(now: 9.1)
        XCTAssertEqual(link.phase, .waiting(retryAt: 10.1))
        XCTAssertFalse(expired.contains(.reopenSocket), "it waits for the backoff first")
        XCTAssertEqual(link.tick(now: 10.2), [.reopenSocket, .sendHello])
        // No WELCOME: the next wait is twice as long, capped at 32 s.
        _ = link.tick(now: 15.3)
        XCTAssertEqual(link.phase, .waiting(retryAt: 17.3))
        var now = 17.3
        for _ in 0..<8 {
            _ = link.tick(now: now)
            now += 6
            _ = link.tick(now: now)
            if case .waiting(let retryAt) = link.phase {
                XCTAssertLessThanOrEqual(retryAt - now, WorkerLink.maxBackoff + 1e-9); now = retryAt
            }
        }
        _ = link.tick(now: now)
        _ = link.received(welcome, now: now + 0.1)
        _ = link.tick(now: now + 6.2)
        XCTAssertEqual(link.phase, .waiting(retryAt: now + 7.2), "a WELCOME resets the backoff to 1 s")
    }

    func testDisconnectMeansHelloAgainAtOnce() {
        var link = WorkerLink()
        _ = link.start(now: 0)
        _ = link.received(welcome, now: 0)
        let actions = link.received(.disconnect(Disconnect(reason: "unknown session")), now: 3)
        XCTAssertTrue(actions.contains(.reopenSocket))
        XCTAssertTrue(actions.contains(.sendHello))
        XCTAssertEqual(link.phase, .helloSent)
    }

    func testTheSweepFinishingIsReportedByDisconnectAndByWelcome() {
        var link = WorkerLink()
        _ = link.start(now: 0)
        XCTAssertFalse(link.received(welcome, now: 0).contains(.sweepFinished))
        XCTAssertFalse(link.received(.disconnect(.unknownSession), now: 1).contains(.sweepFinished))
        _ = link.received(welcome, now: 1.1)
        let told = link.received(.disconnect(.sweepFinished), now: 2)
        XCTAssertTrue(told.contains(.sweepFinished))
        XCTAssertEqual(Array(told.suffix(2)), [.reopenSocket, .sendHello], "then HELLO again, as after any DISCONNECT")
        let finished = Welcome(
            session: "1-2", coordinatorIncarnation: "1", heartbeatMs: 1000, liveness: 5, chunkBytes: 262_144, window: 4,
            sweepFinished: true)
        let actions = link.received(.welcome(finished), now: 2.1)
        XCTAssertTrue(actions.contains(.sweepFinished))
        XCTAssertTrue(actions.contains { if case .sessionStarted = $0 { true } else { false } })
        XCTAssertTrue(link.isConnected, "a coordinator that keeps serving keeps the session")
    }
}
