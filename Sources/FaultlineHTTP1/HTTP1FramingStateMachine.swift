/// The HTTP/1.x framing rules, once: finds lines, parses start lines and fields, decides the body
/// framing and walks the body (fixed length, chunked, or until close).
///
/// It never holds bytes. The caller keeps them and passes the region that starts where the last
/// action's bytes ended; each action says how many raw bytes of that region it covers. Lines
/// completed inside a part that is not finished yet (a head, a trailer section) are parsed as they
/// arrive and remembered as `consumed`, so errors show up as early as the bytes allow and repeated
/// calls with a growing region stay linear. `HTTP1Framer` (buffering, for the parsers) and
/// `HTTP1MessageScanner` (the proxy's zero-copy walk) both drive this one machine.
struct HTTP1FramingStateMachine: Sendable {
    enum Role: Sendable { case request(requireHost: Bool), response }

    enum StartLine: Sendable {
        case request(method: String, target: String, version: HTTPVersion)
        case response(version: HTTPVersion, status: Int, reason: String)
    }

    enum Action: Sendable {
        /// A head of `length` raw bytes (empty lines before a request line included).
        case head(StartLine, HTTPHeaders, HTTPBodyFraming, length: Int)
        /// `length` raw bytes of body. Without coalescing, `data` is where the one run of body data
        /// inside them lies (the rest is chunk framing; it may be empty); with coalescing it is empty.
        case body(length: Int, data: Range<Int>)
        /// The message ends with these `length` raw bytes (last chunk, trailers, final CRLF; else 0).
        case end(trailers: HTTPHeaders, length: Int)
        /// The region does not complete the next part.
        case needMore
    }

    enum BodyState: Sendable {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkTerminator
        case trailers
        case untilClose
    }

    enum State: Sendable {
        /// Between messages (empty lines before a request line may have been consumed).
        case idle
        case startLine
        case fields(StartLine)
        case body(BodyState)
        /// After a message that ends the connection's HTTP use (close, upgrade, CONNECT).
        case stopped
        case failed(HTTPParseError)
    }

    let role: Role
    let limits: HTTPParserLimits
    /// One body action runs over every chunk the region holds (the scanner only counts bytes);
    /// without it each run of chunk data is its own action (the framer hands out data slices).
    let coalescesChunks: Bool
    var state = State.idle
    /// Bytes at the start of the region already taken into the action being built.
    private(set) var consumed = 0
    /// Bytes after `consumed` already checked for a line end (so byte-by-byte input stays linear).
    var scanned = 0

    // Per message.
    var headBytes = 0
    var fields = HTTPHeaders()
    var bodyBytes = 0
    var stopAfterMessage = false
    var interim = false
    /// Response role: a 101 or a 2xx answer to CONNECT was seen; the bytes after its head are not HTTP.
    var switchedProtocols = false
    /// Response role: methods of the requests whose responses are still to come, oldest first.
    var pendingMethods: [String] = []
    var pendingMethodsHead = 0

    init(role: Role, limits: HTTPParserLimits, coalescesChunks: Bool) {
        self.role = role
        self.limits = limits
        self.coalescesChunks = coalescesChunks
    }

    mutating func expectResponse(toMethod method: String) {
        pendingMethods.append(method)
    }

    /// Between messages: nothing but empty lines (`consumed` bytes of them) taken from the region.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    var isFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    // MARK: Actions

    /// The next action for `bytes`, the region starting where the previous action's bytes ended.
    /// - Parameter atEnd: no more bytes will come.
    /// - Throws: `HTTPParseError`, and the same error again on every later call.
    mutating func next(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Action {
        if case .failed(let error) = state { throw error }
        precondition(bytes.count >= consumed + scanned, "the region lost bytes it held before")
        do {
            return try step(bytes, atEnd: atEnd)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Action {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .stopped:
                return .needMore
            case .idle:
                // A close between messages is clean, also after empty lines.
                guard bytes.count > consumed else { return .needMore }
                state = .startLine
            case .startLine:
                if case .request = role {
                    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a
                    // request line. Only CRLF pairs are skipped; they count against the head, and
                    // are part of its length (a relay skips them with it).
                    while bytes.count - consumed >= 2 && bytes[consumed] == 0x0D && bytes[consumed + 1] == 0x0A {
                        consumed += 2
                        headBytes += 2
                        scanned = 0
                        if headBytes > limits.maxHeadBytes { throw .headTooLarge(limit: limits.maxHeadBytes) }
                    }
                    if consumed == bytes.count {
                        state = .idle
                        return .needMore
                    }
                }
                guard let line = try nextLine(bytes, budget: limits.maxHeadBytes - headBytes, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else {
                    return try blocked(atEnd: atEnd)
                }
                headBytes += line.count + 2
                state = .fields(try parseStartLine(bytes.extracting(line)))
            case .fields(let startLine):
                guard let line = try nextLine(bytes, budget: limits.maxHeadBytes - headBytes, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else {
                    return try blocked(atEnd: atEnd)
                }
                headBytes += line.count + 2
                if line.isEmpty {
                    return try completeHead(startLine)
                }
                try appendField(bytes.extracting(line))
            case .body(let body):
                if let action = try stepBody(body, bytes, atEnd: atEnd) { return action }
            }
        }
    }

    /// Inside a message with no complete part: wait, or fail when nothing more can come.
    func blocked(atEnd: Bool) throws(HTTPParseError) -> Action {
        if atEnd { throw .unexpectedEndOfStream }
        return .needMore
    }

    /// Hands the `consumed` bytes to the action being returned; the next region starts after them.
    /// `scanned` stays: a partial line keeps its place (it now starts the next region).
    mutating func takeConsumed() -> Int {
        let length = consumed
        consumed = 0
        return length
    }

    /// Hands the first `length` consumed bytes to an action and keeps the rest for the next one.
    mutating func takeConsumed(_ length: Int) -> Int {
        consumed -= length
        return length
    }

    mutating func advanceConsumed(by count: Int) {
        consumed += count
        scanned = 0
    }

    private mutating func completeHead(_ startLine: StartLine) throws(HTTPParseError) -> Action {
        let framing: HTTPBodyFraming
        switch startLine {
        case .request(_, _, let version):
            framing = try requestFraming(version: version)
            stopAfterMessage = !HTTPConnectionRules.keepAlive(version: version, headers: fields)
        case .response(let version, let status, _):
            framing = try responseFraming(version: version, status: status)
        }
        switch framing {
        case .none: state = .body(.fixed(remaining: 0))
        case .contentLength(let length): state = .body(.fixed(remaining: length))
        case .chunked: state = .body(.chunkSize)
        case .untilClose: state = .body(.untilClose)
        }
        let headers = fields
        fields = HTTPHeaders()
        return .head(startLine, headers, framing, length: takeConsumed())
    }

    mutating func endMessage(trailers: HTTPHeaders) -> Action {
        state = stopAfterMessage && !interim ? .stopped : .idle
        let length = takeConsumed()
        scanned = 0
        headBytes = 0
        fields = HTTPHeaders()
        bodyBytes = 0
        stopAfterMessage = false
        interim = false
        return .end(trailers: trailers, length: length)
    }

    // MARK: Lines

    /// The next CRLF-terminated line after `consumed`, without its CRLF, as a range of `bytes`;
    /// nil when it is not complete yet. `budget` is the most bytes (CRLF included) it may take.
    ///
    /// Bytes are judged one at a time, in order, and a byte past the budget is `tooLong` before
    /// anything else is said about it, so the error does not depend on how the bytes were split
    /// (a bare CR beyond the budget is `tooLong` whether it arrived with its successor or alone).
    mutating func nextLine(_ bytes: Span<UInt8>, budget: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        let start = consumed
        var index = start + scanned
        let end = bytes.count
        while index < end {
            let byte = bytes[index]
            if byte == 0x0A {
                guard index > start, bytes[index - 1] == 0x0D else { throw .bareLineFeed }
                if index + 1 - start > budget { throw tooLong }
                consumed = index + 1
                scanned = 0
                return start..<(index - 1)
            }
            if index + 1 - start > budget { throw tooLong }
            if byte == 0x0D {
                // A CR at the end may still become CRLF: its line continues in the next region.
                guard index + 1 < end else { break }
                guard bytes[index + 1] == 0x0A else { throw .bareCarriageReturn }
            }
            index += 1
        }
        scanned = index - start
        return nil
    }

    mutating func appendField(_ line: Span<UInt8>) throws(HTTPParseError) {
        fields.append(try Self.parseField(line))
        if fields.count > limits.maxHeaderCount { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
    }
}
