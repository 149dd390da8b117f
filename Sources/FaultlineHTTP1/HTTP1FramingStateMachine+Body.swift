// Bodies: a fixed length, until close, or chunked (RFC 9112 §7.1) with strict chunk lines and trailers.
extension HTTP1FramingStateMachine {
    /// The action for the body state, or nil when the state moved on without one (step again).
    mutating func stepBody(_ body: BodyState, _ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Action? {
        switch body {
        case .fixed(let remaining):
            if remaining == 0 { return endMessage(trailers: HTTPHeaders()) }
            let start = consumed
            guard bytes.count > start else { return try blocked(atEnd: atEnd) }
            // O(1) whatever the size: the bytes are counted, not visited.
            let count = min(remaining, bytes.count - start)
            advanceConsumed(by: count)
            state = .body(.fixed(remaining: remaining - count))
            return .body(length: takeConsumed(), data: start..<(start + count))
        case .untilClose:
            let start = consumed
            guard bytes.count > start else {
                if atEnd { return endMessage(trailers: HTTPHeaders()) }
                return .needMore
            }
            let count = bytes.count - start
            if count > limits.maxBodyBytes - bodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            bodyBytes += count
            advanceConsumed(by: count)
            return .body(length: takeConsumed(), data: start..<(start + count))
        case .trailers:
            guard let line = try nextLine(bytes, budget: limits.maxHeadBytes - headBytes, tooLong: .headTooLarge(limit: limits.maxHeadBytes)) else {
                return try blocked(atEnd: atEnd)
            }
            headBytes += line.count + 2
            if line.isEmpty { return endMessage(trailers: fields) }
            try appendField(bytes.extracting(line))
            return nil
        case .chunkSize, .chunkData, .chunkTerminator:
            return try walkChunks(bytes, atEnd: atEnd)
        }
    }

    /// Chunk-size lines, data and terminators. A body action ends when the bytes run out, at the
    /// last chunk (which belongs to the message's end), or, without coalescing, after each data run.
    private mutating func walkChunks(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Action? {
        while true {
            switch state {
            case .body(.chunkSize):
                let lineStart = consumed
                guard let line = try nextLine(bytes, budget: limits.maxChunkLineBytes, tooLong: .chunkLineTooLong(limit: limits.maxChunkLineBytes)) else {
                    return try chunksBlocked(atEnd: atEnd)
                }
                let size = try Self.parseChunkSize(bytes.extracting(line))
                if size > limits.maxBodyBytes - bodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
                bodyBytes += size
                guard size == 0 else {
                    state = .body(.chunkData(remaining: size))
                    continue
                }
                headBytes = 0
                fields = HTTPHeaders()
                state = .body(.trailers)
                if lineStart > 0 {
                    return .body(length: takeConsumed(lineStart), data: lineStart..<lineStart)
                }
                return nil
            case .body(.chunkData(let remaining)):
                let start = consumed
                guard bytes.count > start else { return try chunksBlocked(atEnd: atEnd) }
                let count = min(remaining, bytes.count - start)
                advanceConsumed(by: count)
                if count < remaining {
                    state = .body(.chunkData(remaining: remaining - count))
                } else if bytes.count - consumed >= 2 && bytes[consumed] == 0x0D && bytes[consumed + 1] == 0x0A {
                    // The CRLF after the data travels with it when it is there already.
                    advanceConsumed(by: 2)
                    state = .body(.chunkSize)
                } else {
                    state = .body(.chunkTerminator)
                }
                if !coalescesChunks { return .body(length: takeConsumed(), data: start..<(start + count)) }
            case .body(.chunkTerminator):
                let at = consumed
                if at < bytes.count && bytes[at] != 0x0D { throw .invalidChunkTerminator }
                if at + 1 < bytes.count && bytes[at + 1] != 0x0A { throw .invalidChunkTerminator }
                guard bytes.count - at >= 2 else { return try chunksBlocked(atEnd: atEnd) }
                advanceConsumed(by: 2)
                state = .body(.chunkSize)
            default:
                return nil
            }
        }
    }

    /// Out of bytes inside chunk framing: what was walked goes out as body now (a relay need not
    /// wait for the next chunk to forward this one).
    private mutating func chunksBlocked(atEnd: Bool) throws(HTTPParseError) -> Action {
        if atEnd { throw .unexpectedEndOfStream }
        guard consumed > 0 else { return .needMore }
        let length = takeConsumed()
        return .body(length: length, data: length..<length)
    }

    static func parseChunkSize(_ line: Span<UInt8>) throws(HTTPParseError) -> Int {
        var index = 0
        var size = 0
        while index < line.count, let value = hexValue(line[index]) {
            guard index < 15 else { throw .invalidChunkSize }
            size = size << 4 | value
            index += 1
        }
        guard index > 0 else { throw .invalidChunkSize }
        try validateChunkExtensions(line.extracting(index..<line.count))
        return size
    }

    /// `*( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )`
    private static func validateChunkExtensions(_ text: Span<UInt8>) throws(HTTPParseError) {
        var index = 0
        let end = text.count
        while true {
            while index < end && HTTPSyntax.isWhitespace(text[index]) { index += 1 }
            guard index < end else { return }
            guard text[index] == UInt8(ascii: ";") else {
                // Something other than `;` or BWS right after the digits: the size itself is
                // malformed (`1g`, `-1`), not an extension.
                throw end == 0 || !HTTPSyntax.isWhitespace(text[0]) ? .invalidChunkSize : .invalidChunkExtension
            }
            index += 1
            while index < end && HTTPSyntax.isWhitespace(text[index]) { index += 1 }
            guard let afterName = token(text, from: index) else { throw .invalidChunkExtension }
            index = afterName
            while index < end && HTTPSyntax.isWhitespace(text[index]) { index += 1 }
            guard index < end && text[index] == UInt8(ascii: "=") else { continue }
            index += 1
            while index < end && HTTPSyntax.isWhitespace(text[index]) { index += 1 }
            if index < end && text[index] == UInt8(ascii: "\"") {
                index += 1
                var closed = false
                while index < end {
                    let byte = text[index]
                    index += 1
                    if byte == UInt8(ascii: "\"") { closed = true; break }
                    if byte == UInt8(ascii: "\\") {
                        guard index < end, HTTPSyntax.isFieldValueByte(text[index]) else { throw .invalidChunkExtension }
                        index += 1
                    } else if !HTTPSyntax.isFieldValueByte(byte) {
                        throw .invalidChunkExtension
                    }
                }
                guard closed else { throw .invalidChunkExtension }
            } else {
                guard let afterValue = token(text, from: index) else { throw .invalidChunkExtension }
                index = afterValue
            }
        }
    }

    /// The index after a non-empty token starting at `start`, or nil when there is none.
    private static func token(_ text: Span<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < text.count && HTTPSyntax.isTokenByte(text[index]) { index += 1 }
        return index > start ? index : nil
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
