// RateLimiterTests: the per-peer token bucket and drop counters, driven by a manual clock.
import WireProtocol
import XCTest

/// Checks bursts, refill, peer independence, bounded memory and counting, with time passed in by hand.
final class RateLimiterTests: XCTestCase {
    private func allowed(_ limiter: inout RateLimiter<String>, _ peer: String, _ count: Int, at now: Double) -> Int {
        (0..<count).filter { _ in limiter.allow(peer: peer, now: now) }.count
    }

    func testBurstUpToCapacityThenRefillAtRate() {
        var limiter = RateLimiter<String>(ratePerSecond: 100)
        XCTAssertEqual(limiter.capacity, 100, accuracy: 1e-12)
        XCTAssertEqual(allowed(&limiter, "a", 150, at: 10), 100, "a full bucket allows one second's worth")
        XCTAssertFalse(limiter.allow(peer: "a", now: 10))
        XCTAssertEqual(allowed(&limiter, "a", 50, at: 10.25), 25, "0.25 s refills 25 tokens")
        XCTAssertEqual(allowed(&limiter, "a", 500, at: 100), 100, "refill is capped at capacity")
    }

    func testABurstSmallerThanOneSecondsWorth() {
        var limiter = RateLimiter<String>(ratePerSecond: 1, burst: 3)
        XCTAssertEqual(limiter.capacity, 3, accuracy: 1e-12)
        XCTAssertEqual(allowed(&limiter, "cell", 20, at: 0), 3, "a burst of 3")
        XCTAssertEqual(allowed(&limiter, "cell", 20, at: 1), 1, "then one a second")
        XCTAssertEqual(allowed(&limiter, "cell", 20, at: 100), 3, "refill is capped at the burst")
    }

    func testPeersAreIndependent() {
        var limiter = RateLimiter<String>(ratePerSecond: 10)
        XCTAssertEqual(allowed(&limiter, "a", 20, at: 0), 10)
        XCTAssertEqual(allowed(&limiter, "b", 20, at: 0), 10)
        XCTAssertFalse(limiter.allow(peer: "a", now: 0.05))
    }

    func testClockGoingBackwardsAddsNothing() {
        var limiter = RateLimiter<String>(ratePerSecond: 10)
        XCTAssertEqual(allowed(&limiter, "a", 10, at: 5), 10)
        XCTAssertEqual(allowed(&limiter, "a", 10, at: 4), 0)
        XCTAssertEqual(allowed(&limiter, "a", 10, at: 5.5), 5)
    }

    func testIdlePeersAreForgottenAndMemoryIsBounded() {
        var limiter = RateLimiter<Int>(ratePerSecond: 1000, maxPeers: 100)
        for peer in 0..<50 { XCTAssertTrue(limiter.allow(peer: peer, now: 0)) }
        XCTAssertEqual(limiter.trackedPeers, 50)
        XCTAssertTrue(limiter.allow(peer: 999, now: 2))
        XCTAssertEqual(limiter.trackedPeers, 1, "peers idle past a refill are forgotten")

        for peer in 0..<10_000 { XCTAssertTrue(limiter.allow(peer: peer, now: 3 + Double(peer) * 1e-6)) }
        XCTAssertLessThanOrEqual(limiter.trackedPeers, 100)
        XCTAssertGreaterThan(limiter.trackedPeers, 50)
    }

    func testDropCountersCountPerReason() {
        var counters = DropCounters()
        XCTAssertEqual(counters.total, 0)
        counters.record(.unsupportedVersion(2))
        counters.record(.wrongSignature)
        counters.record(.unsupportedVersion(3))
        counters.record(DropCounters.rateLimited)
        XCTAssertEqual(counters["version"], 2)
        XCTAssertEqual(counters["signature"], 1)
        XCTAssertEqual(counters["rate"], 1)
        XCTAssertEqual(counters["header"], 0)
        XCTAssertEqual(counters.total, 4)
    }

    func testLimiterFeedsCounters() {
        var limiter = RateLimiter<[UInt8]>(ratePerSecond: 5)
        var counters = DropCounters()
        for _ in 0..<8 where !limiter.allow(peer: [1, 2], now: 1) { counters.record(DropCounters.rateLimited) }
        XCTAssertEqual(counters[DropCounters.rateLimited], 3)
    }
}
