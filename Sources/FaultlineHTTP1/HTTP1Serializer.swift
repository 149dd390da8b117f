/// Why a head cannot be written: a value that would change the message's framing if sent.
public enum HTTPSerializationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidMethod(String)
    case invalidTarget(String)
    case invalidStatus(Int)
    case invalidReasonPhrase(String)
    case invalidHeaderName(String)
    case invalidHeaderValue(name: String)

    public var description: String {
        switch self {
        case .invalidMethod(let method): return "invalid method \(method)"
        case .invalidTarget(let target): return "invalid request target \(target)"
        case .invalidStatus(let status): return "invalid status \(status)"
        case .invalidReasonPhrase(let reason): return "invalid reason phrase \(reason)"
        case .invalidHeaderName(let name): return "invalid header name \(name)"
        case .invalidHeaderValue(let name): return "invalid value for header \(name)"
        }
    }
}

/// Writes HTTP/1.1 messages as bytes.
///
/// Heads are written exactly as given (fields in order, names in their case); every part is
/// checked first, so a value with CR or LF can never split a message. Framing headers are the
/// caller's: use `response(…)`/`request(…)` for whole messages with Content-Length, or write a
/// `Transfer-Encoding: chunked` head and then `appendChunk`/`appendLastChunk`.
public enum HTTP1Serializer {
    /// Appends a request line, fields and the empty line.
    /// - Throws: `HTTPSerializationError` (nothing is appended then).
    public static func appendHead(_ head: HTTPRequestHead, to output: inout [UInt8]) throws(HTTPSerializationError) {
        guard HTTPSyntax.isToken(head.method) else { throw .invalidMethod(head.method) }
        guard !head.target.isEmpty, head.target.utf8.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw .invalidTarget(head.target)
        }
        try validate(head.headers)
        output.append(contentsOf: head.method.utf8)
        output.append(0x20)
        output.append(contentsOf: head.target.utf8)
        output.append(0x20)
        output.append(contentsOf: head.version.description.utf8)
        appendCRLF(to: &output)
        appendFields(head.headers, to: &output)
    }

    /// Appends a status line, fields and the empty line.
    /// - Throws: `HTTPSerializationError` (nothing is appended then).
    public static func appendHead(_ head: HTTPResponseHead, to output: inout [UInt8]) throws(HTTPSerializationError) {
        guard (100...599).contains(head.status) else { throw .invalidStatus(head.status) }
        guard head.reason.utf8.allSatisfy(HTTPSyntax.isFieldValueByte) else { throw .invalidReasonPhrase(head.reason) }
        try validate(head.headers)
        output.append(contentsOf: head.version.description.utf8)
        output.append(0x20)
        output.append(contentsOf: String(head.status).utf8)
        output.append(0x20)
        output.append(contentsOf: head.reason.utf8)
        appendCRLF(to: &output)
        appendFields(head.headers, to: &output)
    }

    /// A whole response: `head` with its Content-Length set to the body's size (unless the status
    /// forbids a body: 1xx, 204, 304), then the body.
    public static func response(_ head: HTTPResponseHead, body: [UInt8] = []) throws(HTTPSerializationError) -> [UInt8] {
        var head = head
        let bodyless = head.status < 200 || head.status == 204 || head.status == 304
        head.headers.remove(name: "transfer-encoding")
        if bodyless {
            head.headers.remove(name: "content-length")
        } else {
            head.headers.replaceOrAppend(name: "Content-Length", value: String(body.count))
        }
        var output: [UInt8] = []
        output.reserveCapacity(256 + body.count)
        try appendHead(head, to: &output)
        if !bodyless { output.append(contentsOf: body) }
        return output
    }

    /// A whole request: `head` with Content-Length set when there is a body (or the method
    /// usually has one), then the body.
    public static func request(_ head: HTTPRequestHead, body: [UInt8] = []) throws(HTTPSerializationError) -> [UInt8] {
        var head = head
        head.headers.remove(name: "transfer-encoding")
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(head.method) {
            head.headers.replaceOrAppend(name: "Content-Length", value: String(body.count))
        } else {
            head.headers.remove(name: "content-length")
        }
        var output: [UInt8] = []
        output.reserveCapacity(256 + body.count)
        try appendHead(head, to: &output)
        output.append(contentsOf: body)
        return output
    }

    /// Appends one chunk (`SIZE CRLF data CRLF`); an empty `bytes` appends nothing, since a
    /// zero-size chunk would end the body.
    public static func appendChunk(_ bytes: some Collection<UInt8>, to output: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        output.append(contentsOf: String(bytes.count, radix: 16).utf8)
        appendCRLF(to: &output)
        output.append(contentsOf: bytes)
        appendCRLF(to: &output)
    }

    /// Appends the last chunk, any trailer fields and the final empty line.
    /// - Throws: `HTTPSerializationError` for an invalid trailer (nothing is appended then).
    public static func appendLastChunk(trailers: HTTPHeaders = HTTPHeaders(), to output: inout [UInt8]) throws(HTTPSerializationError) {
        try validate(trailers)
        output.append(UInt8(ascii: "0"))
        appendCRLF(to: &output)
        appendFields(trailers, to: &output)
    }

    private static func validate(_ headers: HTTPHeaders) throws(HTTPSerializationError) {
        for field in headers {
            guard HTTPSyntax.isToken(field.name) else { throw .invalidHeaderName(field.name) }
            guard HTTPSyntax.isValidFieldValue(field.value) else { throw .invalidHeaderValue(name: field.name) }
        }
    }

    private static func appendFields(_ headers: HTTPHeaders, to output: inout [UInt8]) {
        for field in headers {
            output.append(contentsOf: field.name.utf8)
            output.append(UInt8(ascii: ":"))
            output.append(0x20)
            output.append(contentsOf: field.value.utf8)
            appendCRLF(to: &output)
        }
        appendCRLF(to: &output)
    }

    @inline(__always)
    private static func appendCRLF(to output: inout [UInt8]) {
        output.append(0x0D)
        output.append(0x0A)
    }
}
