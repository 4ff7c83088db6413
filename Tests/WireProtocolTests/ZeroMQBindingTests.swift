// ZeroMQBindingTests: the CZeroMQ binding links Debian's libzmq 4.3 with CURVE, and errors read as text.
import Testing
import WireProtocol

@Suite("ZeroMQ binding")
struct ZeroMQBindingTests {
    @Test func linkedLibraryIs43WithCurve() {
        #expect(ZeroMQ.version.hasPrefix("4.3."))
        #expect(ZeroMQ.has("curve"), "CURVE is required for authenticated deployments")
        #expect(ZeroMQ.has("ipc"))
    }

    @Test func errorsCarryLibzmqText() {
        let error = ZMQError(operation: "zmq_bind", code: 98)  // EADDRINUSE
        #expect(error.description.contains("zmq_bind"))
        #expect(error.description.lowercased().contains("address already in use"))
    }
}
