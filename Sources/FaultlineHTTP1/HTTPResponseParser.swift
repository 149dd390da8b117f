/// An incremental, strict HTTP/1.1 response parser: bytes in, events out.
///
/// Same rules and event shape as `HTTPRequestParser`, plus the response framing of RFC 9112 §6.3:
/// a response to HEAD, a 1xx, 204 or 304 has no body; a 2xx to CONNECT ends HTTP on the
/// connection; without Content-Length or chunked the body runs until the connection closes
/// (call `finish()` to end it). Tell the parser each request's method with
/// `expectResponse(toMethod:)`, in order, so it can tell a HEAD response from a GET one; without
/// one, GET is assumed. Interim (1xx) responses are reported as their own head and end; the final
/// response for the same request follows. The one tolerance: a status line without a reason and
/// without the space before it (`HTTP/1.1 200`) is accepted.
public struct HTTPResponseParser: Sendable {
    /// What the parser found.
    public enum Event: Sendable, Hashable {
        /// A status line and its fields.
        case head(HTTPResponseHead)
        /// Body bytes, decoded from chunked framing when it applies.
        case body(ArraySlice<UInt8>)
        /// The message is complete; trailer fields of a chunked body (else empty).
        case end(trailers: HTTPHeaders)
    }

    private var framer: HTTP1Framer

    /// A parser with the given limits.
    public init(limits: HTTPParserLimits = .defaults) {
        framer = HTTP1Framer(role: .response, limits: limits)
    }

    /// Records that a request with `method` was sent; responses are matched to these in order.
    public mutating func expectResponse(toMethod method: String) { framer.expectResponse(toMethod: method) }

    /// Adds received bytes.
    public mutating func feed(_ bytes: ArraySlice<UInt8>) { framer.feed(bytes) }

    /// Adds received bytes.
    public mutating func feed(_ bytes: [UInt8]) { framer.feed(bytes[...]) }

    /// The peer closed: ends a body delimited by close; a message cut short is an error.
    public mutating func finish() { framer.finish() }

    /// The next event, or nil when more bytes are needed (or the parser stopped).
    /// - Throws: `HTTPParseError`, and again on every later call.
    public mutating func next() throws(HTTPParseError) -> Event? {
        guard let raw = try framer.next() else { return nil }
        switch raw {
        case .head(.response(let version, let status, let reason), let headers, let framing):
            return .head(HTTPResponseHead(status: status, reason: reason, version: version, headers: headers, framing: framing))
        case .head(.request, _, _):
            preconditionFailure("response framer produced a request line")
        case .body(let bytes):
            return .body(bytes)
        case .end(let trailers):
            return .end(trailers: trailers)
        }
    }

    /// True between messages with nothing buffered.
    public var isIdle: Bool { framer.isIdle }

    /// True after a message that ended the connection's use for HTTP (close, 101, CONNECT 2xx).
    public var isStopped: Bool { framer.isStopped }

    /// Bytes received and not yet turned into events.
    public var bufferedByteCount: Int { framer.bufferedByteCount }

    /// Takes the bytes not yet parsed (after a 101 or CONNECT, the tunnelled bytes).
    public mutating func takeRemainingBytes() -> [UInt8] { framer.takeRemainingBytes() }
}
