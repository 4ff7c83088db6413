// EndpointSyntax: checks a --bind or --connect endpoint before use, since libzmq takes some bad ones silently.
import ArgumentParser
import Foundation
import WireProtocol

/// The endpoint forms Ablate accepts: `tcp://HOST:PORT` and `ipc://PATH` (and `inproc://NAME`). libzmq reads a
/// TCP port above 65535 modulo 65536 (`:99999` listens on 34463) and refuses a malformed connect endpoint only
/// with EINVAL, which a worker would retry forever; both are refused here at once, naming the option.
enum EndpointSyntax {
    /// Why `endpoint` cannot be used with `option`, nil when its form is fine. A bind may use port `*` or `0`
    /// (any free port).
    static func problem(_ endpoint: String, bind: Bool) -> String? {
        let forms = "expected tcp://HOST:PORT or ipc://PATH"
        guard let range = endpoint.range(of: "://") else { return forms }
        let transport = endpoint[..<range.lowerBound]
        let address = String(endpoint[range.upperBound...])
        switch transport {
        case "ipc", "inproc":
            return address.isEmpty ? "\(transport):// needs a path or name (\(forms))" : nil
        case "tcp":
            guard let colon = address.lastIndex(of: ":"), colon != address.startIndex else {
                return "tcp:// needs HOST:PORT (\(forms))"
            }
            let port = address[address.index(after: colon)...]
            if bind && (port == "*" || port == "0") { return nil }
            guard !port.isEmpty, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber), let number = Int(port),
                (1...65535).contains(number)
            else {
                return "port '\(port)' must be a number from 1 to 65535\(bind ? " (or * for any free port)" : "")"
            }
            return nil
        default:
            return "unsupported transport '\(transport)' (\(forms))"
        }
    }

    /// Throws a usage error naming `option` when the endpoint's form is bad.
    static func check(_ endpoint: String, option: String, bind: Bool) throws {
        if let problem = problem(endpoint, bind: bind) {
            throw ValidationError("\(option) \(endpoint): \(problem)")
        }
    }

    /// Connects a throwaway socket to `endpoint`: libzmq refuses a malformed one at once (EINVAL and the like),
    /// which later reconnects would only repeat.
    static func probeConnect(_ endpoint: String, option: String) throws {
        do throws(ZMQError) {
            let context = try ZMQContext()
            let socket = try ZMQSocket(context, type: .dealer)
            defer { socket.close() }
            try socket.connect(endpoint)
        } catch {
            throw RunFailure(message: "\(option) \(endpoint): not a usable endpoint: \(ZeroMQ.errorText(error.code))")
        }
    }
}
