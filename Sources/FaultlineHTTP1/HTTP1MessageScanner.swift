/// Walks HTTP/1.x messages in bytes the caller holds, without copying or changing what it
/// forwards: each event says how many raw bytes belong to a head, a stretch of body or the end
/// of a message, so a proxy can pass the original bytes on unchanged (header case and spacing,
/// chunk sizes and extensions, trailers).
///
/// The scanner keeps no input. Every call is given the bytes not yet covered by an event, starting
/// exactly where the previous event's bytes ended; `.needMore` means the next part is incomplete
/// and the same bytes (plus new ones) must come again. Heads are checked with the strict rules of
/// `HTTPRequestParser`/`HTTPResponseParser` (the same framer parses them), so every smuggling
/// vector those refuse is refused here before a byte is forwarded.
public struct HTTP1MessageScanner: Sendable {
    /// Which side's messages are scanned.
    public enum Role: Sendable {
        case request
        case response
    }

    /// What the next bytes are.
    public enum Event: Sendable, Equatable {
        /// A complete request head of `length` raw bytes (empty lines before it included).
        case requestHead(HTTPRequestHead, length: Int)
        /// A complete response head of `length` raw bytes.
        case responseHead(HTTPResponseHead, length: Int)
        /// `length` raw bytes of body (for chunked bodies: sizes, data and CRLFs).
        case body(length: Int)
        /// The message ends with these `length` raw bytes (the last chunk and trailers; 0 otherwise).
        case end(length: Int)
        /// The bytes given do not complete the next part.
        case needMore
    }

    private enum Body: Sendable {
        case none
        case fixed(remaining: Int)
        case chunked(Chunk)
        case untilClose
    }

    private enum Chunk: Sendable {
        case size
        case data(remaining: Int)
        case terminator
    }

    private enum State: Sendable {
        case idle
        case body(Body)
        case stopped
        case tunnel
        case failed(HTTPParseError)
    }

    public let role: Role
    public let limits: HTTPParserLimits
    private var state = State.idle
    /// Bytes of the current head already searched without finding its end.
    private var headScanned = 0
    /// After the current message: stop (close) or tunnel.
    private var after = State.idle
    /// Response role: methods of the requests whose answers are due, oldest first.
    private var methods: [String] = []
    private var methodsHead = 0

    /// A scanner for `role` with the given limits.
    public init(role: Role, limits: HTTPParserLimits = .defaults) {
        self.role = role
        self.limits = limits
    }

    /// Between messages: nothing of a message has been reported yet.
    public var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// After a message that ended the connection's use for HTTP (`Connection: close`, HTTP/1.0).
    public var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    /// After a 101 or a 2xx answer to CONNECT: the connection is a byte tunnel.
    public var isTunnel: Bool {
        if case .tunnel = state { return true }
        return false
    }

    /// Makes the connection a byte tunnel from here on (the request side, once the answer said so).
    public mutating func enterTunnel() { state = .tunnel }

    /// Response role: the next response answers a request with this method (HEAD has no body,
    /// CONNECT 2xx opens a tunnel).
    public mutating func expectResponse(toMethod method: String) {
        methods.append(method)
    }

    /// Convenience for callers holding arrays.
    public mutating func next(_ bytes: [UInt8], atEnd: Bool) throws(HTTPParseError) -> Event {
        try next(bytes.span, atEnd: atEnd)
    }

    /// The next part of the stream in `bytes` (the region no event has covered yet).
    /// - Parameter atEnd: the peer closed; no byte will follow these.
    /// - Throws: `HTTPParseError`, and the same again on every later call.
    public mutating func next(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        do {
            return try step(bytes, atEnd: atEnd)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        switch state {
        case .failed(let error):
            throw error
        case .stopped, .tunnel:
            return .needMore
        case .idle:
            return try head(bytes, atEnd: atEnd)
        case .body(let body):
            return try self.body(body, bytes, atEnd: atEnd)
        }
    }

    // MARK: Heads

    private mutating func head(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        let count = bytes.count
        var start = 0
        if role == .request {
            // Empty lines before a request line are skipped (RFC 9112 §2.2) but stay in the head.
            while start + 1 < count && bytes[start] == 0x0D && bytes[start + 1] == 0x0A { start += 2 }
        }
        let limit = limits.maxHeadBytes
        var index = max(start, headScanned)
        var end = -1
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A {
                guard index > 0, bytes[index - 1] == 0x0D else { throw .bareLineFeed }
                // CRLF CRLF, or an empty first line after skipped ones (a malformed head the
                // framer reports).
                if index >= 3 && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D && index - 3 >= start {
                    end = index + 1
                    break
                }
            } else if byte == 0x0D, index + 1 < count, bytes[index + 1] != 0x0A {
                throw .bareCarriageReturn
            }
            if index + 1 - start > limit { throw .headTooLarge(limit: limit) }
            index += 1
        }
        guard end > 0 else {
            headScanned = max(start, count - 3)
            if count - start > limit { throw .headTooLarge(limit: limit) }
            if atEnd && count > start { throw .unexpectedEndOfStream }
            return .needMore
        }
        if end - start > limit { throw .headTooLarge(limit: limit) }
        headScanned = 0
        var copy: [UInt8] = []
        copy.reserveCapacity(end - start)
        for i in start..<end { copy.append(bytes[i]) }
        switch role {
        case .request:
            return try requestHead(copy, length: end)
        case .response:
            return try responseHead(copy, length: end)
        }
    }

    private mutating func requestHead(_ bytes: [UInt8], length: Int) throws(HTTPParseError) -> Event {
        var parser = HTTPRequestParser(limits: limits)
        parser.feed(bytes)
        guard case .head(let head)? = try parser.next() else { throw .unexpectedEndOfStream }
        after = head.keepAlive ? .idle : .stopped
        begin(head.framing)
        return .requestHead(head, length: length)
    }

    private mutating func responseHead(_ bytes: [UInt8], length: Int) throws(HTTPParseError) -> Event {
        var parser = HTTPResponseParser(limits: limits)
        let method = methodsHead < methods.count ? methods[methodsHead] : "GET"
        parser.expectResponse(toMethod: method)
        parser.feed(bytes)
        guard case .head(let head)? = try parser.next() else { throw .unexpectedEndOfStream }
        var tunnel = false
        if head.isInterim {
            after = .idle  // the final answer to the same request follows
        } else {
            if methodsHead < methods.count {
                methodsHead += 1
                if methodsHead == methods.count {
                    methods.removeAll(keepingCapacity: true)
                    methodsHead = 0
                }
            }
            if head.status == 101 || (method == "CONNECT" && (200..<300).contains(head.status)) {
                after = .tunnel
                tunnel = true
            } else {
                after = head.keepAlive ? .idle : .stopped
            }
        }
        begin(tunnel ? .none : head.framing)
        return .responseHead(head, length: length)
    }

    private mutating func begin(_ framing: HTTPBodyFraming) {
        switch framing {
        case .none: state = .body(.none)
        case .contentLength(let length): state = .body(length == 0 ? .none : .fixed(remaining: length))
        case .chunked: state = .body(.chunked(.size))
        case .untilClose: state = .body(.untilClose)
        }
    }

    private mutating func endMessage(_ length: Int) -> Event {
        state = after
        after = .idle
        return .end(length: length)
    }

    // MARK: Bodies

    private mutating func body(_ body: Body, _ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        let count = bytes.count
        switch body {
        case .none:
            return endMessage(0)
        case .fixed(let remaining):
            guard count > 0 else {
                if atEnd { throw .unexpectedEndOfStream }
                return .needMore
            }
            let n = min(remaining, count)
            state = n == remaining ? .body(.none) : .body(.fixed(remaining: remaining - n))
            return .body(length: n)
        case .untilClose:
            if count > 0 { return .body(length: count) }
            return atEnd ? endMessage(0) : .needMore
        case .chunked(let chunk):
            return try chunked(chunk, bytes, atEnd: atEnd)
        }
    }

    /// Walks as many whole chunk pieces as the bytes hold and reports them as one body event; the
    /// last chunk and its trailers are reported as the end once they are complete.
    private mutating func chunked(_ start: Chunk, _ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event {
        let count = bytes.count
        var chunk = start
        var offset = 0
        walk: while offset < count {
            switch chunk {
            case .size:
                guard let lineEnd = try lineEnd(bytes, from: offset, budget: limits.maxChunkLineBytes,
                                                tooLong: .chunkLineTooLong(limit: limits.maxChunkLineBytes)) else { break walk }
                var line: [UInt8] = []
                for i in offset..<(lineEnd - 2) { line.append(bytes[i]) }
                let size = try HTTP1Framer.parseChunkSize(line[...])
                if size == 0 {
                    if offset > 0 { break walk }  // report the data first
                    guard let trailersEnd = try trailers(bytes, from: lineEnd) else {
                        state = .body(.chunked(.size))
                        if atEnd { throw .unexpectedEndOfStream }
                        return .needMore
                    }
                    return endMessage(trailersEnd)
                }
                offset = lineEnd
                chunk = .data(remaining: size)
            case .data(let remaining):
                let n = min(remaining, count - offset)
                offset += n
                chunk = n == remaining ? .terminator : .data(remaining: remaining - n)
            case .terminator:
                guard count - offset >= 2 else {
                    if count - offset == 1 && bytes[offset] != 0x0D { throw .invalidChunkTerminator }
                    break walk
                }
                guard bytes[offset] == 0x0D && bytes[offset + 1] == 0x0A else { throw .invalidChunkTerminator }
                offset += 2
                chunk = .size
            }
        }
        state = .body(.chunked(chunk))
        if offset > 0 { return .body(length: offset) }
        if atEnd { throw .unexpectedEndOfStream }
        return .needMore
    }

    /// The index just past the CRLF of the line starting at `from`, or nil when it is incomplete.
    private func lineEnd(
        _ bytes: Span<UInt8>, from: Int, budget: Int, tooLong: HTTPParseError
    ) throws(HTTPParseError) -> Int? {
        var index = from
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A {
                guard index > from, bytes[index - 1] == 0x0D else { throw .bareLineFeed }
                if index + 1 - from > budget { throw tooLong }
                return index + 1
            }
            if byte == 0x0D, index + 1 < count, bytes[index + 1] != 0x0A { throw .bareCarriageReturn }
            index += 1
            if index - from > budget { throw tooLong }
        }
        return nil
    }

    /// The length from the start of the bytes through the end of the trailer section that starts
    /// at `from`, or nil when it is incomplete. Trailer fields are checked like header fields.
    private func trailers(_ bytes: Span<UInt8>, from: Int) throws(HTTPParseError) -> Int? {
        var offset = from
        var fields = 0
        while true {
            guard let end = try lineEnd(bytes, from: offset, budget: limits.maxHeadBytes - (offset - from),
                                        tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else { return nil }
            if end - offset == 2 { return end }
            let first = bytes[offset]
            if first == 0x20 || first == 0x09 { throw .obsoleteLineFolding }
            var colon = -1
            for i in offset..<(end - 2) where bytes[i] == UInt8(ascii: ":") {
                colon = i
                break
            }
            guard colon > offset else { throw colon == offset ? .invalidHeaderName : .missingColon }
            for i in offset..<colon where !HTTPSyntax.isTokenByte(bytes[i]) {
                throw bytes[i] == 0x20 || bytes[i] == 0x09 ? .whitespaceBeforeColon : .invalidHeaderName
            }
            for i in (colon + 1)..<(end - 2) where !HTTPSyntax.isFieldValueByte(bytes[i]) {
                throw .invalidHeaderValue(name: "trailer")
            }
            fields += 1
            if fields > limits.maxHeaderCount { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
            offset = end
        }
    }
}
