/// Walks HTTP/1.x messages in bytes the caller holds, without copying or changing what it
/// forwards: each event says how many raw bytes belong to a head, a stretch of body or the end of
/// a message, so a proxy passes the original bytes on unchanged (header case and spacing, chunk
/// sizes and extensions, trailers).
///
/// The scanner keeps no input. Every call gets the bytes no event has covered yet, starting
/// exactly where the previous event's bytes ended; `.needMore` means the next part is incomplete
/// and the same bytes (plus new ones) must come again. Work already done on them (lines of a head
/// parsed, the place reached in a partial line) is remembered, so a head that arrives byte by byte
/// is still scanned in linear time, and errors are raised as soon as the bytes show them.
///
/// The rules are the parsers' own (`HTTPRequestParser`/`HTTPResponseParser` run the same
/// `HTTP1FramingStateMachine`), so every smuggling vector they refuse (sharp edge 4: CL with TE,
/// differing Content-Lengths, TE in HTTP/1.0, TE not ending in chunked, bare LF or CR, obs-fold,
/// missing or duplicate Host) is refused here before a byte of the head is forwarded. Requests need
/// exactly one Host in HTTP/1.1.
///
/// Responses are framed by RFC 9112 §6.3: a response to HEAD, a 1xx, 204 or 304 has no body; a
/// 1xx other than 101 is interim (the final response to the same request follows); a 101 or a 2xx
/// to CONNECT makes the connection a tunnel after its head; without Content-Length or chunked the
/// body runs until the peer closes. Tell the scanner each request's method with
/// `expectResponse(toMethod:)`, in order; without one, GET is assumed.
public struct HTTP1MessageScanner: Sendable {
    /// Which side's messages are scanned.
    public enum Role: Sendable {
        /// Client to server.
        case request
        /// Server to client.
        case response
    }

    /// What the next bytes are.
    public enum Event: Sendable, Equatable {
        /// A complete request head of `length` raw bytes: empty lines before the request line,
        /// the request line, the fields and the empty line's CRLF.
        case requestHead(HTTPRequestHead, length: Int)
        /// A complete response head of `length` raw bytes (status line through the empty line).
        case responseHead(HTTPResponseHead, length: Int)
        /// `length` raw bytes of body, as many as the bytes given hold (for a chunked body: chunk
        /// size lines, data and CRLFs; never the last chunk, which belongs to the end).
        case body(length: Int)
        /// The message ends with these `length` raw bytes: for a chunked body the last-chunk
        /// line, the trailer section and the final CRLF; 0 otherwise.
        case end(length: Int)
        /// The bytes given do not complete the next part (or the scanner stopped): call again
        /// with the same bytes plus new ones.
        case needMore
    }

    /// Which side's messages are scanned.
    public let role: Role
    private var machine: HTTP1FramingStateMachine
    private var tunnelEntered = false

    /// A scanner for `role` with the given limits.
    public init(role: Role, limits: HTTPParserLimits = .defaults) {
        self.role = role
        let machineRole: HTTP1FramingStateMachine.Role
        switch role {
        case .request: machineRole = .request(requireHost: true)
        case .response: machineRole = .response
        }
        machine = HTTP1FramingStateMachine(role: machineRole, limits: limits, coalescesChunks: true)
    }

    /// The limits in force.
    public var limits: HTTPParserLimits { machine.limits }

    /// Between messages: no part of a message has been scanned (empty lines before a request
    /// line do not count; they go out with the next head).
    public var isIdle: Bool { !tunnelEntered && machine.isIdle }

    /// True once nothing more will be parsed: after a message that ended the connection's use for
    /// HTTP (`Connection: close`, HTTP/1.0 without keep-alive, a body delimited by close, a 101 or
    /// a 2xx answer to CONNECT) is complete, or after `enterTunnel()`. `next` then returns
    /// `.needMore` and the bytes that follow are not HTTP of this scanner's concern.
    public var isStopped: Bool { tunnelEntered || machine.isStopped }

    /// True once the connection is a byte tunnel: from the head of a 101 or of a 2xx answer to
    /// CONNECT on (that message still ends with `.end(length: 0)`; after it, `.needMore` forever),
    /// or after `enterTunnel()`.
    public var isTunnel: Bool { tunnelEntered || machine.switchedProtocols }

    /// Makes the connection a byte tunnel from here on: `next` returns `.needMore` forever. For the
    /// request side, once the response side saw a 101 or a 2xx answer to CONNECT (the request
    /// scanner cannot know the answer).
    public mutating func enterTunnel() { tunnelEntered = true }

    /// Response role: the next response not yet expected answers a request with `method` (kept
    /// in order; HEAD means no body, CONNECT 2xx a tunnel). Interim responses do not use one up.
    public mutating func expectResponse(toMethod method: String) {
        machine.expectResponse(toMethod: method)
    }

    /// The next part of the stream.
    /// - Parameters:
    ///   - bytes: the region no event has covered yet, starting exactly where the previous event's
    ///     bytes ended (after `.needMore`: the same bytes again, plus any new ones).
    ///   - atEnd: the peer closed; no byte will follow these.
    /// - Throws: `HTTPParseError` (a malformed or truncated message: `.unexpectedEndOfStream` when
    ///   `atEnd` cuts a message short), and the same error again on every later call.
    public mutating func next(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        if tunnelEntered { return .needMore }
        switch try machine.next(bytes, atEnd: atEnd) {
        case .needMore:
            return .needMore
        case .head(.request(let method, let target, let version), let headers, let framing, let length):
            return .requestHead(
                HTTPRequestHead(method: method, target: target, version: version, headers: headers, framing: framing),
                length: length)
        case .head(.response(let version, let status, let reason), let headers, let framing, let length):
            return .responseHead(
                HTTPResponseHead(status: status, reason: reason, version: version, headers: headers, framing: framing),
                length: length)
        case .body(let length, _):
            return .body(length: length)
        case .end(_, let length):
            return .end(length: length)
        }
    }

    /// `next(_:atEnd:)` for callers holding an array.
    public mutating func next(_ bytes: [UInt8], atEnd: Bool) throws(HTTPParseError) -> Event {
        try next(bytes.span, atEnd: atEnd)
    }

    /// `next(_:atEnd:)` for callers holding an array slice.
    public mutating func next(_ bytes: ArraySlice<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        try next(bytes.span, atEnd: atEnd)
    }
}
