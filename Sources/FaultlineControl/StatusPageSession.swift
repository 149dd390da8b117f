import FaultlineHTTP1

/// How a browser is let in to the status page on a TCP listener that wants a bearer token.
///
/// A browser cannot send `Authorization: Bearer` when it follows a link, so `GET /ui?token=T`
/// with the right token is answered `303 See Other` to `/ui` (the token leaves the address bar
/// and the history) with a cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other
/// site's page makes the browser send it) and named after the listener's port (two daemons on
/// one host keep apart). Its value is a random secret of this daemon process, not the token.
///
/// The cookie opens only what the page reads — `GET` of `/ui`, `/ui/*`, `/v1/ui/snapshot`,
/// `/v1/journal` and `/v1/report` — so it can never change state: a POST, PUT, PATCH or DELETE
/// carrying it, or a GET of any other endpoint, still needs the bearer header and is 401 without.
struct StatusPageSession {
    /// `faultline_ui_<port>`.
    let cookieName: String
    private let secret: [UInt8]

    /// A session for the TCP listener on `port`, with a fresh secret.
    init(port: UInt16) {
        // Not a fault decision, so not the seeded generator: the secret must be unguessable, and
        // SystemRandomNumberGenerator reads getrandom(2).
        var generator = SystemRandomNumberGenerator()
        var text = ""
        for _ in 0..<4 {
            let word = generator.next()
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        self.init(port: port, secret: text)
    }

    /// A session with a known secret (tests).
    init(port: UInt16, secret: String) {
        cookieName = "faultline_ui_\(port)"
        self.secret = Array(secret.utf8)
    }

    /// What to do with a request on the tokened listener.
    enum Admission: Equatable {
        /// Serve it.
        case allowed
        /// Answer this instead (the cookie exchange, or a refusal).
        case answer(ControlResponse)
    }

    /// Decides a request on a TCP listener whose token is `token`.
    func admit(method: String, target: String, headers: HTTPHeaders, token: [UInt8]) -> Admission {
        let request = ControlRequest(method: method, target: target)
        if let request, method == "GET", request.segments == ["ui"], let presented = request.queryValue("token") {
            guard ControlLoop.constantTimeEquals(Array(presented.utf8), token) else {
                return .answer(Self.unauthorized("the token in ?token= is wrong"))
            }
            return .answer(exchange)
        }
        if ControlLoop.authorised(headers, token: token) { return .allowed }
        let hasCookie = presentsCookie(headers)
        if hasCookie, let request, Self.isPageRead(method: method, segments: request.segments) { return .allowed }
        if hasCookie {
            return .answer(Self.unauthorized(
                "the status page's cookie allows only the GETs the page makes; \(method) \(request?.path ?? target) needs Authorization: Bearer"))
        }
        return .answer(Self.unauthorized("missing or wrong bearer token"))
    }

    /// The requests the page makes (and the report it links to).
    static func isPageRead(method: String, segments: [String]) -> Bool {
        guard method == "GET" else { return false }
        return segments.first == "ui" || segments == ["v1", "ui", "snapshot"] || segments == ["v1", "journal"]
            || segments == ["v1", "report"]
    }

    /// Whether a `Cookie` header carries this session's cookie with its secret.
    func presentsCookie(_ headers: HTTPHeaders) -> Bool {
        for header in headers.values(for: "cookie") {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0].trimmingSpaces == cookieName else { continue }
                if ControlLoop.constantTimeEquals(Array(parts[1].trimmingSpaces.utf8), secret) { return true }
            }
        }
        return false
    }

    /// `303` to `/ui`, setting the cookie.
    var exchange: ControlResponse {
        var response = ControlResponse(status: 303)
        response.headers.append(name: "Location", value: "/ui")
        response.headers.append(
            name: "Set-Cookie", value: "\(cookieName)=\(String(decoding: secret, as: UTF8.self)); Path=/; HttpOnly; SameSite=Strict")
        response.headers.append(name: "Cache-Control", value: "no-store")
        response.headers.append(name: "Referrer-Policy", value: "no-referrer")
        return response
    }

    /// `303` to `/ui` without a cookie: `?token=` on a listener that needs none.
    static let dropToken: ControlResponse = {
        var response = ControlResponse(status: 303)
        response.headers.append(name: "Location", value: "/ui")
        response.headers.append(name: "Referrer-Policy", value: "no-referrer")
        return response
    }()

    static func unauthorized(_ message: String) -> ControlResponse {
        var response = ControlResponse.error(401, code: "unauthorized", message: message)
        response.headers.append(name: "WWW-Authenticate", value: "Bearer")
        return response
    }
}

private extension Substring {
    var trimmingSpaces: String {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
