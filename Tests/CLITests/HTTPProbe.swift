// HTTPProbe: a minimal blocking HTTP/1.1 GET over a TCP socket for the dashboard tests, with the Host header chosen freely.
import Foundation

/// One request, one response (`Connection: close`); enough to check status codes and bodies of the dashboard.
enum HTTPProbe {
    struct Reply {
        var status: Int
        var headers: String
        var body: String
    }

    /// Sends `method path` to `address:port` (IPv4) with `Host: host` (default `address:port`) and `headers`.
    static func request(
        _ address: String, _ port: Int, _ path: String, method: String = "GET", host: String? = nil,
        headers: [String: String] = [:]
    ) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProbeError(message: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else { throw ProbeError(message: "bad address") }
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw ProbeError(message: "connect \(address):\(port): errno \(errno)") }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "\(address):\(port)")\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw ProbeError(message: "send failed") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let whole = String(decoding: response, as: UTF8.self)
        guard let split = whole.range(of: "\r\n\r\n") else { throw ProbeError(message: "no response: \(whole)") }
        let head = String(whole[..<split.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Reply(status: status, headers: head, body: String(whole[split.upperBound...]))
    }

    /// A TCP port free on 127.0.0.1 right now (bound to port 0 and released).
    static func freePort() throws -> Int {
        let (fd, port) = try listeningSocket()
        close(fd)
        return port
    }

    /// A socket listening on a free port of every IPv4 address, and the port; the caller closes it.
    static func listeningSocket() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = INADDR_ANY
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, listen(fd, 1) == 0 else {
            close(fd)
            throw ProbeError(message: "cannot find a free port")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// This machine's first non-loopback IPv4 address of an interface that is up, nil when it has none.
    static func nonLoopbackIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                (current.pointee.ifa_flags & UInt32(IFF_UP)) != 0,
                (current.pointee.ifa_flags & UInt32(IFF_LOOPBACK)) == 0
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                var raw = ipv4.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN)) != nil
            }
            if ok { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        return nil
    }

    struct ProbeError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
