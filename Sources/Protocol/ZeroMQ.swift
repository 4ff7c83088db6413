// ZeroMQ: the linked libzmq's version and capabilities, and its errors as a typed Swift error.
import CZeroMQ

/// A failed libzmq call: the call's name and libzmq's errno text.
public struct ZMQError: Error, CustomStringConvertible, Sendable, Equatable {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation): \(ZeroMQ.errorText(code)) (errno \(code))" }

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// Builds the error for the calling thread's current `zmq_errno()`.
    public static func current(_ operation: String) -> ZMQError {
        ZMQError(operation: operation, code: zmq_errno())
    }
}

/// Facts about the linked libzmq.
public enum ZeroMQ {
    /// The library version, e.g. `4.3.4`.
    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether the library was built with a capability (`curve`, `ipc`, `draft`, …).
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) == 1
    }

    /// libzmq's text for an errno value.
    public static func errorText(_ code: Int32) -> String {
        guard let text = zmq_strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}
