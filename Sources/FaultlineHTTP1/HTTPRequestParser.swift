/// An incremental, strict HTTP/1.1 request parser: bytes in, events out.
///
/// Feed bytes as they arrive, then call `next()` until it returns nil (more bytes needed). Each
/// message gives `.head`, zero or more `.body` slices, then `.end` (with trailers for chunked
/// bodies); pipelined requests follow one another. Feeding the same bytes in any split gives the
/// same events (body slices may be cut differently).
///
/// Strict by design (a proxy that is lenient where its upstream is strict is a smuggling vector):
/// - lines must end in CRLF; a bare LF or bare CR is an error (empty CRLF lines before a request
///   line are skipped, RFC 9112 §2.2);
/// - obsolete line folding, whitespace before a colon, non-token names and control characters
///   (or invalid UTF-8) in values are errors;
/// - Content-Length with Transfer-Encoding, differing Content-Length values, Transfer-Encoding
///   in HTTP/1.0, and a Transfer-Encoding that does not end in a single `chunked` are errors;
/// - HTTP/1.1 requests need exactly one Host (configurable);
/// - heads, trailer sections, header counts, bodies and chunk-size lines are bounded by
///   `HTTPParserLimits`.
///
/// After a message that does not keep the connection alive (`Connection: close`, HTTP/1.0
/// without keep-alive) the parser stops: `next()` returns nil and `isStopped` is true. After an
/// error it stays failed and `next()` throws the same error again.
public struct HTTPRequestParser: Sendable {
    /// What the parser found.
    public enum Event: Sendable, Hashable {
        /// A request line and its fields.
        case head(HTTPRequestHead)
        /// Body bytes, decoded from chunked framing when it applies.
        case body(ArraySlice<UInt8>)
        /// The message is complete; trailer fields of a chunked body (else empty).
        case end(trailers: HTTPHeaders)
    }

    private var framer: HTTP1Framer

    /// A parser with the given limits; `requireHost` enforces RFC 9112 §3.2 (exactly one Host in
    /// HTTP/1.1 requests).
    public init(limits: HTTPParserLimits = .defaults, requireHost: Bool = true) {
        framer = HTTP1Framer(role: .request(requireHost: requireHost), limits: limits)
    }

    /// The limits in force.
    public var limits: HTTPParserLimits { framer.limits }

    /// Adds received bytes.
    public mutating func feed(_ bytes: ArraySlice<UInt8>) { framer.feed(bytes) }

    /// Adds received bytes.
    public mutating func feed(_ bytes: [UInt8]) { framer.feed(bytes[...]) }

    /// The peer closed its sending side: no more bytes will come. A request cut short is then an
    /// `unexpectedEndOfStream` error; a close between requests is not.
    public mutating func finish() { framer.finish() }

    /// The next event, or nil when more bytes are needed (or the parser stopped).
    /// - Throws: `HTTPParseError`, and again on every later call.
    public mutating func next() throws(HTTPParseError) -> Event? {
        guard let raw = try framer.next() else { return nil }
        switch raw {
        case .head(.request(let method, let target, let version), let headers, let framing):
            return .head(HTTPRequestHead(method: method, target: target, version: version, headers: headers, framing: framing))
        case .head(.response, _, _):
            preconditionFailure("request framer produced a status line")
        case .body(let bytes):
            return .body(bytes)
        case .end(let trailers):
            return .end(trailers: trailers)
        }
    }

    /// True between messages with nothing buffered: a close now loses nothing.
    public var isIdle: Bool { framer.isIdle }

    /// True after a message that ended the connection's use for HTTP.
    public var isStopped: Bool { framer.isStopped }

    /// Bytes received and not yet turned into events.
    public var bufferedByteCount: Int { framer.bufferedByteCount }

    /// Takes the bytes not yet parsed (after the parser stopped, e.g. for a protocol upgrade).
    public mutating func takeRemainingBytes() -> [UInt8] { framer.takeRemainingBytes() }
}
