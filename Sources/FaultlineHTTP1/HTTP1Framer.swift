/// The state machine both parsers share: finds lines, parses start lines and fields, decides the
/// body framing and walks the body (fixed length, chunked, or until close).
///
/// Bytes are buffered internally; `next` hands out one event at a time, so a caller can stop
/// between pipelined messages and body bytes are returned as slices of the buffer, not copies.
struct HTTP1Framer: Sendable {
    enum Role: Sendable { case request(requireHost: Bool), response }

    enum StartLine: Sendable {
        case request(method: String, target: String, version: HTTPVersion)
        case response(version: HTTPVersion, status: Int, reason: String)
    }

    enum RawEvent: Sendable {
        case head(StartLine, HTTPHeaders, HTTPBodyFraming)
        case body(ArraySlice<UInt8>)
        case end(trailers: HTTPHeaders)
    }

    private enum BodyState: Sendable {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkTerminator
        case trailers
        case untilClose
    }

    private enum State: Sendable {
        /// Between messages.
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
    private var state = State.idle
    private var buffer: [UInt8] = []
    private var position = 0
    /// Bytes after `position` already checked for a line end (so byte-by-byte input stays linear).
    private var scanned = 0
    private var eof = false

    // Per message.
    private var headBytes = 0
    private var fields = HTTPHeaders()
    private var bodyBytes = 0
    private var stopAfterMessage = false
    private var interim = false
    /// Response role: methods of the requests whose responses are still to come, oldest first.
    private var pendingMethods: [String] = []
    private var pendingMethodsHead = 0

    init(role: Role, limits: HTTPParserLimits) {
        self.role = role
        self.limits = limits
    }

    // MARK: Input

    mutating func feed(_ bytes: ArraySlice<UInt8>) {
        if case .failed = state { return }
        if position > 0 && (position == buffer.count || position >= 64 * 1024) {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func finish() { eof = true }

    mutating func expectResponse(toMethod method: String) {
        pendingMethods.append(method)
    }

    var isIdle: Bool {
        if case .idle = state { return position == buffer.count }
        return false
    }

    var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    var bufferedByteCount: Int { buffer.count - position }

    mutating func takeRemainingBytes() -> [UInt8] {
        let rest = Array(buffer[position...])
        buffer.removeAll()
        position = 0
        scanned = 0
        return rest
    }

    // MARK: Events

    mutating func next() throws(HTTPParseError) -> RawEvent? {
        if case .failed(let error) = state { throw error }
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> RawEvent? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .stopped:
                return nil
            case .idle:
                guard position < buffer.count else { return nil }
                beginMessage()
                state = .startLine
            case .startLine:
                if case .request = role {
                    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a
                    // request line. Only CRLF pairs are skipped, and they count against the head.
                    while bufferedByteCount >= 2 && buffer[position] == 0x0D && buffer[position + 1] == 0x0A {
                        position += 2
                        headBytes += 2
                        scanned = 0
                        if headBytes > limits.maxHeadBytes { throw .headTooLarge(limit: limits.maxHeadBytes) }
                    }
                    if position == buffer.count {
                        state = .idle
                        return nil
                    }
                }
                guard let line = try nextLine(budget: limits.maxHeadBytes - headBytes, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else {
                    return try atEndOfInput(midMessage: true)
                }
                headBytes += line.count + 2
                state = .fields(try parseStartLine(line))
            case .fields(let startLine):
                guard let line = try nextLine(budget: limits.maxHeadBytes - headBytes, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else {
                    return try atEndOfInput(midMessage: true)
                }
                headBytes += line.count + 2
                if line.isEmpty {
                    return try completeHead(startLine)
                }
                try appendField(line)
            case .body(let body):
                switch try stepBody(body) {
                case .event(let event): return event
                case .progressed: continue
                case .blocked: return nil
                }
            }
        }
    }

    private mutating func beginMessage() {
        headBytes = 0
        fields = HTTPHeaders()
        bodyBytes = 0
        stopAfterMessage = false
        interim = false
    }

    /// nil when no more input can come yet; at end of input, a clean end or an error.
    private mutating func atEndOfInput(midMessage: Bool) throws(HTTPParseError) -> RawEvent? {
        guard eof else { return nil }
        if midMessage { throw .unexpectedEndOfStream }
        state = .idle
        return nil
    }

    // MARK: Lines

    /// The next CRLF-terminated line without its CRLF, or nil when it is not complete yet.
    /// `budget` is the most bytes (CRLF included) the line may take.
    private mutating func nextLine(budget: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        var index = position + scanned
        let end = buffer.count
        while index < end {
            let byte = buffer[index]
            if byte == 0x0A {
                guard index > position, buffer[index - 1] == 0x0D else { throw .bareLineFeed }
                if index + 1 - position > budget { throw tooLong }
                let line = buffer[position..<(index - 1)]
                position = index + 1
                scanned = 0
                return line
            }
            if byte == 0x0D {
                guard index + 1 < end else { break }
                guard buffer[index + 1] == 0x0A else { throw .bareCarriageReturn }
            }
            index += 1
        }
        scanned = index - position
        // A pending CR may still become CRLF, so the partial line counts without it.
        if end - position > budget { throw tooLong }
        return nil
    }

    // MARK: Start line and fields

    private func parseStartLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> StartLine {
        switch role {
        case .request: return try parseRequestLine(line)
        case .response: return try parseStatusLine(line)
        }
    }

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> StartLine {
        let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .invalidRequestLine }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty else { throw .invalidRequestLine }
        guard method.allSatisfy(HTTPSyntax.isTokenByte) else { throw .invalidMethod }
        guard !target.isEmpty else { throw .invalidRequestLine }
        guard target.allSatisfy(HTTPSyntax.isTargetByte) else { throw .invalidTarget }
        return .request(
            method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self),
            version: try parseVersion(version)
        )
    }

    private func parseStatusLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> StartLine {
        guard line.count >= 12 else { throw .invalidStatusLine }
        let start = line.startIndex
        let version = try parseVersion(line[start..<(start + 8)])
        guard line[start + 8] == 0x20 else { throw .invalidStatusLine }
        let digits = line[(start + 9)..<(start + 12)]
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .invalidStatus }
        let status = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard (100...599).contains(status) else { throw .invalidStatus }
        var reason = ""
        if line.count > 12 {
            // The SP before an empty reason is required by the grammar but often missing in
            // practice; `HTTP/1.1 200` is accepted (the one tolerance, clients ignore the reason).
            guard line[start + 12] == 0x20 else { throw .invalidStatusLine }
            let phrase = line[(start + 13)...]
            guard phrase.allSatisfy(HTTPSyntax.isFieldValueByte) else { throw .invalidReasonPhrase }
            reason = String(decoding: phrase, as: UTF8.self)
        }
        return .response(version: version, status: status, reason: reason)
    }

    private func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard bytes.count == 8, bytes.prefix(5).elementsEqual(prefix) else { throw .invalidVersion }
        let start = bytes.startIndex
        let major = bytes[start + 5], dot = bytes[start + 6], minor = bytes[start + 7]
        guard major >= 0x30 && major <= 0x39, dot == UInt8(ascii: "."), minor >= 0x30 && minor <= 0x39 else {
            throw .invalidVersion
        }
        let version = HTTPVersion(major: Int(major - 0x30), minor: Int(minor - 0x30))
        guard version == .http1_0 || version == .http1_1 else { throw .unsupportedVersion(version) }
        return version
    }

    private mutating func appendField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) {
        fields.append(try parseField(line))
        if fields.count > limits.maxHeaderCount { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
    }

    private func parseField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPField {
        guard let first = line.first else { throw .invalidHeaderName }
        if HTTPSyntax.isWhitespace(first) { throw .obsoleteLineFolding }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .missingColon
        }
        let name = line[line.startIndex..<colon]
        guard let last = name.last else { throw .invalidHeaderName }
        if HTTPSyntax.isWhitespace(last) { throw .whitespaceBeforeColon }
        guard name.allSatisfy(HTTPSyntax.isTokenByte) else { throw .invalidHeaderName }
        let nameText = String(decoding: name, as: UTF8.self)
        var value = line[(colon + 1)...]
        while let byte = value.first, HTTPSyntax.isWhitespace(byte) { value = value.dropFirst() }
        while let byte = value.last, HTTPSyntax.isWhitespace(byte) { value = value.dropLast() }
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte),
              let valueText = String(validating: value, as: UTF8.self) else {
            throw .invalidHeaderValue(name: nameText)
        }
        return HTTPField(name: nameText, value: valueText)
    }

    // MARK: Framing

    private mutating func completeHead(_ startLine: StartLine) throws(HTTPParseError) -> RawEvent {
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
        return .head(startLine, fields, framing)
    }

    private func requestFraming(version: HTTPVersion) throws(HTTPParseError) -> HTTPBodyFraming {
        if case .request(let requireHost) = role {
            let hosts = fields.values(for: "host").count
            if hosts > 1 { throw .duplicateHost }
            if hosts == 0 && requireHost && version >= .http1_1 { throw .missingHost }
        }
        if let chunked = try transferCoding(version: version) {
            guard chunked else { throw .unsupportedTransferEncoding }
            return .chunked
        }
        if let length = try contentLength() { return .contentLength(length) }
        return .none
    }

    private mutating func responseFraming(version: HTTPVersion, status: Int) throws(HTTPParseError) -> HTTPBodyFraming {
        let method = pendingMethodsHead < pendingMethods.count ? pendingMethods[pendingMethodsHead] : "GET"
        if status < 200 {
            interim = status != 101
            stopAfterMessage = status == 101
            return .none
        }
        // The request this response answers is settled: later heads belong to the next request.
        if pendingMethodsHead < pendingMethods.count {
            pendingMethodsHead += 1
            if pendingMethodsHead == pendingMethods.count {
                pendingMethods.removeAll(keepingCapacity: true)
                pendingMethodsHead = 0
            }
        }
        if method == "CONNECT" && status < 300 {
            stopAfterMessage = true
            return .none
        }
        stopAfterMessage = !HTTPConnectionRules.keepAlive(version: version, headers: fields)
        if method == "HEAD" || status == 204 || status == 304 { return .none }
        if let chunked = try transferCoding(version: version) {
            if chunked { return .chunked }
            stopAfterMessage = true
            return .untilClose
        }
        if let length = try contentLength() { return .contentLength(length) }
        stopAfterMessage = true
        return .untilClose
    }

    /// nil without Transfer-Encoding; true when it ends in `chunked` (once); false otherwise.
    private func transferCoding(version: HTTPVersion) throws(HTTPParseError) -> Bool? {
        guard fields.contains("transfer-encoding") else { return nil }
        if version < .http1_1 { throw .transferEncodingInHTTP10 }
        if fields.contains("content-length") { throw .contentLengthWithTransferEncoding }
        let codings = fields.tokens(for: "transfer-encoding")
        let chunkedCount = codings.filter { $0 == "chunked" }.count
        if chunkedCount > 1 { throw .unsupportedTransferEncoding }
        return codings.last == "chunked"
    }

    private func contentLength() throws(HTTPParseError) -> Int? {
        let values = fields.values(for: "content-length")
        guard !values.isEmpty else { return nil }
        var length: Int?
        for value in values {
            let elements = value.split(separator: ",", omittingEmptySubsequences: false)
            for element in elements {
                let digits = HTTPSyntax.trimmingWhitespace(element).utf8
                guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw .invalidContentLength
                }
                let parsed = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                if let length, length != parsed { throw .conflictingContentLength }
                length = parsed
            }
        }
        if let length, length > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        return length
    }

    // MARK: Body

    private enum Step {
        case event(RawEvent)
        /// State moved on without an event; step again.
        case progressed
        /// More input is needed.
        case blocked
    }

    private mutating func stepBody(_ body: BodyState) throws(HTTPParseError) -> Step {
        switch body {
        case .fixed(let remaining):
            if remaining == 0 { return .event(endMessage(trailers: HTTPHeaders())) }
            guard position < buffer.count else {
                if eof { throw .unexpectedEndOfStream }
                return .blocked
            }
            let count = min(remaining, buffer.count - position)
            state = .body(.fixed(remaining: remaining - count))
            return .event(.body(take(count)))
        case .untilClose:
            guard position < buffer.count else {
                if eof { return .event(endMessage(trailers: HTTPHeaders())) }
                return .blocked
            }
            let count = buffer.count - position
            if count > limits.maxBodyBytes - bodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            bodyBytes += count
            return .event(.body(take(count)))
        case .chunkSize:
            guard let line = try nextLine(budget: limits.maxChunkLineBytes, tooLong: .chunkLineTooLong(limit: limits.maxChunkLineBytes)) else {
                if eof { throw .unexpectedEndOfStream }
                return .blocked
            }
            let size = try Self.parseChunkSize(line)
            if size > limits.maxBodyBytes - bodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            bodyBytes += size
            if size == 0 {
                headBytes = 0
                fields = HTTPHeaders()
                state = .body(.trailers)
            } else {
                state = .body(.chunkData(remaining: size))
            }
            return .progressed
        case .chunkData(let remaining):
            guard position < buffer.count else {
                if eof { throw .unexpectedEndOfStream }
                return .blocked
            }
            let count = min(remaining, buffer.count - position)
            state = .body(count == remaining ? .chunkTerminator : .chunkData(remaining: remaining - count))
            return .event(.body(take(count)))
        case .chunkTerminator:
            if position < buffer.count && buffer[position] != 0x0D { throw .invalidChunkTerminator }
            if position + 1 < buffer.count && buffer[position + 1] != 0x0A { throw .invalidChunkTerminator }
            guard buffer.count - position >= 2 else {
                if eof { throw .unexpectedEndOfStream }
                return .blocked
            }
            position += 2
            scanned = 0
            state = .body(.chunkSize)
            return .progressed
        case .trailers:
            guard let line = try nextLine(budget: limits.maxHeadBytes - headBytes, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else {
                if eof { throw .unexpectedEndOfStream }
                return .blocked
            }
            headBytes += line.count + 2
            if line.isEmpty { return .event(endMessage(trailers: fields)) }
            try appendField(line)
            return .progressed
        }
    }

    private mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        let slice = buffer[position..<(position + count)]
        position += count
        scanned = 0
        return slice
    }

    private mutating func endMessage(trailers: HTTPHeaders) -> RawEvent {
        state = stopAfterMessage && !interim ? .stopped : .idle
        return .end(trailers: trailers)
    }

    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var index = line.startIndex
        var size = 0
        var digits = 0
        while index < line.endIndex, let value = Self.hexValue(line[index]) {
            digits += 1
            guard digits <= 15 else { throw .invalidChunkSize }
            size = size << 4 | value
            index += 1
        }
        guard digits > 0 else { throw .invalidChunkSize }
        try Self.validateChunkExtensions(line[index...])
        return size
    }

    /// `*( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )`
    private static func validateChunkExtensions(_ text: ArraySlice<UInt8>) throws(HTTPParseError) {
        var rest = text
        func skipWhitespace() { while let byte = rest.first, HTTPSyntax.isWhitespace(byte) { rest = rest.dropFirst() } }
        func token() -> Bool {
            let count = rest.prefix(while: HTTPSyntax.isTokenByte).count
            rest = rest.dropFirst(count)
            return count > 0
        }
        while true {
            skipWhitespace()
            guard let byte = rest.first else { return }
            guard byte == UInt8(ascii: ";") else {
                throw digitsOrWhitespaceOnly(text) ? .invalidChunkSize : .invalidChunkExtension
            }
            rest = rest.dropFirst()
            skipWhitespace()
            guard token() else { throw .invalidChunkExtension }
            skipWhitespace()
            guard rest.first == UInt8(ascii: "=") else { continue }
            rest = rest.dropFirst()
            skipWhitespace()
            if rest.first == UInt8(ascii: "\"") {
                rest = rest.dropFirst()
                var closed = false
                while let byte = rest.first {
                    rest = rest.dropFirst()
                    if byte == UInt8(ascii: "\"") { closed = true; break }
                    if byte == UInt8(ascii: "\\") {
                        guard let escaped = rest.first, HTTPSyntax.isFieldValueByte(escaped) else { throw .invalidChunkExtension }
                        rest = rest.dropFirst()
                    } else if !HTTPSyntax.isFieldValueByte(byte) {
                        throw .invalidChunkExtension
                    }
                }
                guard closed else { throw .invalidChunkExtension }
            } else if !token() {
                throw .invalidChunkExtension
            }
        }
    }

    /// True when the text after the hex digits starts with something other than `;` or BWS,
    /// i.e. the size itself is malformed (`1g`, `-1`).
    private static func digitsOrWhitespaceOnly(_ text: ArraySlice<UInt8>) -> Bool {
        guard let first = text.first else { return true }
        return !HTTPSyntax.isWhitespace(first)
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
