// How a message's body is delimited (RFC 9112 §6), with the smuggling checks of sharp edge 4.
extension HTTP1FramingStateMachine {
    func requestFraming(version: HTTPVersion) throws(HTTPParseError) -> HTTPBodyFraming {
        if case .request(let requireHost) = role {
            let hosts = fields.values(for: "host").count
            if hosts > 1 { throw .duplicateHost }
            if hosts == 0 && requireHost && version >= .http1_1 { throw .missingHost }
        }
        if let codings = try transferCodings(version: version) {
            guard codings.last == "chunked" else {
                // A request body's length is knowable only when chunked comes last.
                if let last = codings.last { throw .unsupportedTransferCoding(last) }
                throw .unsupportedTransferEncoding
            }
            return .chunked
        }
        if let length = try contentLength() { return .contentLength(length) }
        return .none
    }

    mutating func responseFraming(version: HTTPVersion, status: Int) throws(HTTPParseError) -> HTTPBodyFraming {
        let method = pendingMethodsHead < pendingMethods.count ? pendingMethods[pendingMethodsHead] : "GET"
        if status < 200 {
            // An interim response answers nobody yet: the final one for the same request follows.
            interim = status != 101
            stopAfterMessage = status == 101
            if status == 101 { switchedProtocols = true }
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
            switchedProtocols = true
            return .none
        }
        stopAfterMessage = !HTTPConnectionRules.keepAlive(version: version, headers: fields)
        if method == "HEAD" || status == 204 || status == 304 { return .none }
        if let codings = try transferCodings(version: version) {
            if codings.last == "chunked" { return .chunked }
            stopAfterMessage = true
            return .untilClose
        }
        if let length = try contentLength() { return .contentLength(length) }
        stopAfterMessage = true
        return .untilClose
    }

    /// nil without Transfer-Encoding; else its codings, lowercased, `chunked` at most once.
    private func transferCodings(version: HTTPVersion) throws(HTTPParseError) -> [String]? {
        guard fields.contains("transfer-encoding") else { return nil }
        if version < .http1_1 { throw .transferEncodingInHTTP10 }
        if fields.contains("content-length") { throw .contentLengthWithTransferEncoding }
        let codings = fields.tokens(for: "transfer-encoding")
        let chunkedCount = codings.filter { $0 == "chunked" }.count
        if chunkedCount > 1 { throw .unsupportedTransferEncoding }
        return codings
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
}
