// DashboardAccess: who may read the dashboard — method, token, loopback peer and Host header rules, as pure code.
import Foundation

/// Decides whether a request is answered. Pure: the HTTP layer passes in the facts (method, peer, headers) and
/// turns the decision into a status.
///
/// A request is answered when its method is GET or HEAD and either it carries the token (`Authorization: Bearer
/// TOKEN` or `?token=TOKEN`, compared in constant time) or it comes from a loopback peer and its Host header names
/// a loopback host or the bound host (with the bound port, if it gives one). The Host rule keeps a web page that
/// re-points its own name at 127.0.0.1 (DNS rebinding) from reading a loopback dashboard through a browser.
public struct DashboardAccess: Sendable {
    /// What happens to a request.
    public enum Decision: Sendable, Equatable {
        case allow
        /// 401: no valid token where one is needed (no detail in the body).
        case unauthorized
        /// 403: a loopback request whose Host header names another host (DNS rebinding guard).
        case misdirected
        /// 405: a method other than GET and HEAD.
        case methodNotAllowed
    }

    /// The address the dashboard listens on (its host and port are allowed Host headers).
    public let bind: HTTPBindAddress
    /// The token, when one is configured.
    public let token: DashboardToken?

    /// The rule for a dashboard at `bind`, with `token` if any.
    public init(bind: HTTPBindAddress, token: DashboardToken?) {
        self.bind = bind
        self.token = token
    }

    /// The decision for a request. `peerIsLoopback`: the TCP peer's address is a loopback one; `host`: the Host
    /// header (nil when absent); `authorization`: the Authorization header; `queryToken`: the `token` query item.
    public func decide(
        method: String, peerIsLoopback: Bool, host: String?, authorization: String?, queryToken: String?
    ) -> Decision {
        if let token, carriesToken(token, authorization: authorization, queryToken: queryToken) {
            return method == "GET" || method == "HEAD" ? .allow : .methodNotAllowed
        }
        guard peerIsLoopback else { return .unauthorized }
        guard let host, hostIsAllowed(host) else { return .misdirected }
        return method == "GET" || method == "HEAD" ? .allow : .methodNotAllowed
    }

    /// Whether the Host header `value` (`name`, `name:port`, `[v6]` or `[v6]:port`) names a loopback host or the
    /// bound host, with the bound port when it gives one.
    public func hostIsAllowed(_ value: String) -> Bool {
        let name: Substring
        var port: Substring?
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return false }
            name = value[value.index(after: value.startIndex)..<close]
            let rest = value[value.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return false }
                port = rest.dropFirst()
            }
        } else if let colon = value.firstIndex(of: ":") {
            name = value[..<colon]
            port = value[value.index(after: colon)...]
        } else {
            name = Substring(value)
        }
        if let port, Int(port) != bind.port { return false }
        let lower = name.lowercased()
        return HTTPBindAddress.isLoopback(host: lower) || lower == bind.host.lowercased()
    }

    private func carriesToken(_ token: DashboardToken, authorization: String?, queryToken: String?) -> Bool {
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer",
                token.matches(parts[1].trimmingCharacters(in: .whitespaces))
            {
                return true
            }
        }
        if let queryToken, token.matches(queryToken) { return true }
        return false
    }
}
