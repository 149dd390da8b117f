/// How a message's body is delimited (RFC 9112 §6.3), as the parser determined it.
public enum HTTPBodyFraming: Sendable, Hashable {
    /// No body (a request without Content-Length or Transfer-Encoding, a HEAD response, 1xx/204/304).
    case none
    /// Exactly this many bytes.
    case contentLength(Int)
    /// `Transfer-Encoding: …, chunked`.
    case chunked
    /// A response body that ends when the connection closes.
    case untilClose
}

/// A request line and its header fields.
public struct HTTPRequestHead: Sendable, Hashable {
    /// The method token, case-sensitive (`GET`).
    public var method: String
    /// The request-target as received (`/v1/status?x=1`, `*`, `host:443`, `http://h/p`).
    public var target: String
    public var version: HTTPVersion
    /// Header fields in received order.
    public var headers: HTTPHeaders
    /// How the body is delimited. Set by the parser; the serializer ignores it.
    public var framing: HTTPBodyFraming

    /// A request head; `framing` is `.none` unless given.
    public init(
        method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
        framing: HTTPBodyFraming = .none
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.framing = framing
    }

    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool { HTTPConnectionRules.keepAlive(version: version, headers: headers) }

    /// Whether the client waits for `100 Continue` before sending the body (`Expect: 100-continue`).
    public var expectsContinue: Bool {
        version >= .http1_1 && headers.tokens(for: "expect").contains("100-continue")
    }

    /// The target's path (before `?`).
    public var path: Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? Substring(target)
    }

    /// The target's query (after `?`), or nil when there is none.
    public var query: Substring? {
        target.firstIndex(of: "?").map { target[target.index(after: $0)...] }
    }
}

/// A status line and its header fields.
public struct HTTPResponseHead: Sendable, Hashable {
    public var version: HTTPVersion
    /// The three-digit status code.
    public var status: Int
    /// The reason phrase as received (may be empty).
    public var reason: String
    /// Header fields in received order.
    public var headers: HTTPHeaders
    /// How the body is delimited. Set by the parser; the serializer ignores it.
    public var framing: HTTPBodyFraming

    /// A response head; the reason defaults to the standard phrase for `status`.
    public init(
        status: Int, reason: String? = nil, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
        framing: HTTPBodyFraming = .none
    ) {
        self.version = version
        self.status = status
        self.reason = reason ?? HTTPStatus.reasonPhrase(for: status)
        self.headers = headers
        self.framing = framing
    }

    /// Whether the connection stays usable after this response (see `HTTPRequestHead.keepAlive`);
    /// never after a body delimited by close.
    public var keepAlive: Bool {
        framing != .untilClose && HTTPConnectionRules.keepAlive(version: version, headers: headers)
    }

    /// True for 1xx responses other than 101: another head follows for the same request.
    public var isInterim: Bool { status >= 100 && status < 200 && status != 101 }
}

enum HTTPConnectionRules {
    static func keepAlive(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        let tokens = headers.tokens(for: "connection")
        if tokens.contains("close") { return false }
        if version >= .http1_1 { return true }
        return tokens.contains("keep-alive")
    }
}
