// DashboardResponder: the dashboard's routes — access rule first, then the page, the JSON APIs and the report, all from memory.
import Hummingbird

/// Answers every request from the current `DashboardSnapshot` (bytes copied out of memory; nothing here reads a
/// file or the ledger). `DashboardAccess` decides first: 401 / 403 / 405 have empty bodies.
///
/// Routes: `GET /` the page, `GET /api/status`, `GET /api/curves`, `GET /api/report` (404 JSON before the first
/// report), `GET /report.html` (404 before the first report); anything else 404. HEAD answers like GET without
/// the body.
public struct DashboardResponder: HTTPResponder {
    public typealias Context = DashboardContext

    let access: DashboardAccess
    let store: DashboardSnapshotStore
    let page: ByteBuffer

    /// Routes answering under `access` from `store`'s snapshot.
    public init(access: DashboardAccess, store: DashboardSnapshotStore) {
        self.access = access
        self.store = store
        page = ByteBuffer(string: DashboardPage.html)
    }

    /// The answer to one request: a refusal, or bytes of the page or the snapshot.
    public func respond(to request: Request, context: DashboardContext) async throws -> Response {
        let decision = access.decide(
            method: request.method.rawValue, peerIsLoopback: context.peerIsLoopback,
            host: request.head.authority, authorization: request.headers[.authorization],
            queryToken: request.uri.queryParameters.get("token"))
        switch decision {
        case .allow: break
        case .unauthorized:
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        case .misdirected:
            return Response(status: .forbidden)
        case .methodNotAllowed:
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
        }
        let (contentType, body, status) = route(request.uri.path)
        var headers: HTTPFields = [.contentType: contentType, .cacheControl: "no-store"]
        headers[.contentLength] = String(body.readableBytes)
        if let name = HTTPFields.Element.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
        let isHead = request.method == .head
        return Response(status: status, headers: headers, body: isHead ? .init() : .init(byteBuffer: body))
    }

    private func route(_ path: String) -> (String, ByteBuffer, HTTPResponse.Status) {
        let json = "application/json; charset=utf-8"
        switch path {
        case "/", "/index.html":
            return ("text/html; charset=utf-8", page, .ok)
        case "/api/status":
            return (json, ByteBuffer(bytes: store.snapshot.status), .ok)
        case "/api/curves":
            return (json, ByteBuffer(bytes: store.snapshot.curves), .ok)
        case "/api/report":
            guard let report = store.snapshot.reportJSON else {
                return (json, ByteBuffer(string: #"{"error":"no report yet"}"#), .notFound)
            }
            return (json, ByteBuffer(bytes: report), .ok)
        case "/report.html":
            guard let report = store.snapshot.reportHTML else {
                return ("text/plain; charset=utf-8", ByteBuffer(string: "no report yet\n"), .notFound)
            }
            return ("text/html; charset=utf-8", ByteBuffer(bytes: report), .ok)
        default:
            return ("text/plain; charset=utf-8", ByteBuffer(string: "not found\n"), .notFound)
        }
    }
}
