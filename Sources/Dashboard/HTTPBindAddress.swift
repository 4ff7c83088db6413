// HTTPBindAddress: the dashboard's `--http HOST:PORT`, parsed, and whether its host is a loopback one.
import Foundation

/// Where the dashboard listens (`--http HOST:PORT`): an IPv4 address, `[IPv6]`, or a host name, and a port.
/// Pure: parsing opens no socket and resolves no name.
public struct HTTPBindAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host as given, without the brackets of an IPv6 address.
    public var host: String
    /// 1…65535.
    public var port: Int

    /// An address from its parts (not checked).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (`127.0.0.1:8080`, `localhost:8080`, `[::1]:8080`, `0.0.0.0:8080`); nil when malformed
    /// or the port is not 1…65535.
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, host.allSatisfy(Self.isHostCharacter), !portText.isEmpty,
            portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
            let port = Int(portText), (1...65535).contains(port)
        else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// Whether the host is a loopback one: `localhost`, an IPv4 address in 127.0.0.0/8, or `::1`.
    public var isLoopback: Bool { Self.isLoopback(host: host) }

    /// `HOST:PORT`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether `host` (no brackets, no port) names this machine's loopback interface.
    public static func isLoopback(host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" { return true }
        if let octets = ipv4Octets(lower) { return octets[0] == 127 }
        // An IPv4 peer of a socket bound to an IPv6 address shows as ::ffff:a.b.c.d.
        if lower.hasPrefix("::ffff:"), let octets = ipv4Octets(String(lower.dropFirst(7))) { return octets[0] == 127 }
        if lower.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, lower, &address) == 1 else { return false }
            return withUnsafeBytes(of: &address) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    /// The four octets of a dotted-quad IPv4 address, nil for anything else.
    static func ipv4Octets(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(part), value <= 255
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    private static func isHostCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-._:%".contains(character))
    }
}
