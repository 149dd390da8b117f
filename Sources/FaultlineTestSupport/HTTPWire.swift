// HTTP/1.1 message heads for test peers (HTTPUpstream, HTTPTestConnection). Written apart from
// FaultlineHTTP1 on purpose: a test peer that shared the daemon's parser would share its bugs, so
// this one is small, strict and independent (RFC 9112), and says exactly what it refused.

/// One header field as it was on the wire (name case kept, value without surrounding whitespace).
public struct HTTPField: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}

/// Why a test peer could not read an HTTP message.
public enum HTTPWireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes break the framing rules; the text names the rule (e.g. `"bare LF in head"`).
    case malformed(String)
    /// The head grew past the reader's limit.
    case headTooLarge(Int)
    /// The peer closed (FIN) before the message was complete; `got` bytes of it had arrived.
    case unexpectedEOF(got: Int)
    /// The peer reset the connection.
    case reset
    /// Nothing more arrived before the deadline.
    case timedOut(String)
    /// Another socket error.
    case socket(Int32)

    public var description: String {
        switch self {
        case .malformed(let rule): return "malformed: \(rule)"
        case .headTooLarge(let size): return "head too large (\(size) bytes so far)"
        case .unexpectedEOF(let got): return "EOF inside a message (\(got) bytes of it read)"
        case .reset: return "connection reset"
        case .timedOut(let what): return "timed out: \(what)"
        case .socket(let errno): return "socket error \(errno)"
        }
    }
}

/// A parsed message head: the three parts of the start line, the fields in order, the raw bytes.
public struct HTTPHead: Sendable {
    /// Request: method, target, version. Response: version, status code, reason phrase.
    public var startLine: (String, String, String)
    public var fields: [HTTPField]
    /// The head exactly as received, blank line included.
    public var raw: [UInt8]

    /// Every value of the fields named `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return fields.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The first value of `name`, or nil.
    public func value(_ name: String) -> String? { values(name).first }

    /// Whether a comma-separated field `name` lists `token` (case-insensitive).
    public func lists(_ name: String, _ token: String) -> Bool {
        values(name).flatMap { $0.split(separator: ",") }
            .contains { $0.trimmingWhitespace().lowercased() == token.lowercased() }
    }
}

/// How a message body is delimited.
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
    /// A response read until the connection closes.
    case untilClose
}

/// Strict head parsing and framing rules (RFC 9112 §2–§6, with the smuggling rules of §6.3).
public enum HTTPWire {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10

    /// The length of the head at the front of `bytes` (through its blank line), or nil if the
    /// blank line has not arrived. A bare LF also ends a line here, so that a head written with
    /// bare LFs is found and then refused by `parseHead` instead of waited on forever.
    public static func headLength(_ bytes: ArraySlice<UInt8>) -> Int? {
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == lf {
                let lineLength = index - lineStart
                if lineLength == 0 || (lineLength == 1 && bytes[lineStart] == cr) {
                    return index + 1 - bytes.startIndex
                }
                lineStart = index + 1
            }
            index += 1
        }
        return nil
    }

    /// Parses a complete head (as delimited by `headLength`).
    /// - Throws: `.malformed` naming the first rule broken: bare LF or CR, obs-fold, whitespace
    ///   before a colon, an invalid field name, control characters in a value, a bad start line.
    public static func parseHead(_ raw: [UInt8], isRequest: Bool) throws(HTTPWireError) -> HTTPHead {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = 0
        for index in raw.indices {
            switch raw[index] {
            case lf:
                guard index > lineStart, raw[index - 1] == cr else { throw .malformed("bare LF in head") }
                lines.append(raw[lineStart..<(index - 1)])
                lineStart = index + 1
            case cr:
                guard index + 1 < raw.count, raw[index + 1] == lf else { throw .malformed("bare CR in head") }
            default:
                continue
            }
        }
        guard lines.count >= 2, lines.last?.isEmpty == true else { throw .malformed("head does not end in an empty line") }
        lines.removeLast()
        let startLine = try parseStartLine(lines.removeFirst(), isRequest: isRequest)
        var fields: [HTTPField] = []
        for line in lines {
            fields.append(try parseField(line))
        }
        return HTTPHead(startLine: startLine, fields: fields, raw: raw)
    }

    private static func parseStartLine(_ line: ArraySlice<UInt8>, isRequest: Bool) throws(HTTPWireError) -> (String, String, String) {
        let text = String(decoding: line, as: UTF8.self)
        if isRequest {
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .malformed("request line is not `method SP target SP version`: \(text.debugDescription)")
            }
            guard parts[0].utf8.allSatisfy(isTokenByte) else { throw .malformed("invalid method \(parts[0].debugDescription)") }
            guard parts[1].utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { throw .malformed("invalid target") }
            guard parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else { throw .malformed("unsupported version \(parts[2].debugDescription)") }
            return (String(parts[0]), String(parts[1]), String(parts[2]))
        }
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0",
              parts[1].count == 3, let code = Int(parts[1]), (100...999).contains(code) else {
            throw .malformed("status line is not `version SP code SP reason`: \(text.debugDescription)")
        }
        return (String(parts[0]), String(parts[1]), parts.count == 3 ? String(parts[2]) : "")
    }

    private static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPWireError) -> HTTPField {
        guard let first = line.first else { throw .malformed("empty field line") }
        if first == 32 || first == 9 { throw .malformed("obs-fold (a field line starting with whitespace)") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("field line without a colon") }
        let name = line[line.startIndex..<colon]
        if let last = name.last, last == 32 || last == 9 { throw .malformed("whitespace before the colon") }
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .malformed("invalid field name") }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 32 || byte == 9 { value.removeFirst() }
        while let byte = value.last, byte == 32 || byte == 9 { value.removeLast() }
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { throw .malformed("control character in a field value") }
        return HTTPField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// How a request's body is framed.
    /// - Throws: `.malformed` for Content-Length with Transfer-Encoding, differing or invalid
    ///   Content-Lengths, a Transfer-Encoding that is not exactly `chunked`, Transfer-Encoding in
    ///   HTTP/1.0, and a missing or repeated Host in HTTP/1.1.
    public static func requestFraming(_ head: HTTPHead) throws(HTTPWireError) -> HTTPBodyFraming {
        let version = head.startLine.2
        let hosts = head.values("host")
        if version == "HTTP/1.1" && hosts.count != 1 {
            throw .malformed(hosts.isEmpty ? "missing Host" : "\(hosts.count) Host fields")
        }
        let codings = head.values("transfer-encoding")
        let lengths = head.values("content-length")
        if !codings.isEmpty {
            if !lengths.isEmpty { throw .malformed("Content-Length with Transfer-Encoding") }
            if version == "HTTP/1.0" { throw .malformed("Transfer-Encoding in HTTP/1.0") }
            let list = codings.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace().lowercased() }
            guard list == ["chunked"] else { throw .malformed("Transfer-Encoding \(codings.joined(separator: ", ")) is not exactly chunked") }
            return .chunked
        }
        return try contentLength(lengths).map { .length($0) } ?? .none
    }

    /// How a response to `method` is framed (RFC 9112 §6.3).
    /// - Throws: `.malformed` for CL+TE, differing Content-Lengths, a final coding other than chunked.
    public static func responseFraming(_ head: HTTPHead, requestMethod: String) throws(HTTPWireError) -> HTTPBodyFraming {
        let status = Int(head.startLine.1) ?? 0
        if requestMethod == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        if requestMethod == "CONNECT" && (200..<300).contains(status) { return .none }
        let codings = head.values("transfer-encoding")
        let lengths = head.values("content-length")
        if !codings.isEmpty {
            if !lengths.isEmpty { throw .malformed("Content-Length with Transfer-Encoding in a response") }
            let list = codings.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace().lowercased() }
            return list.last == "chunked" ? .chunked : .untilClose
        }
        return try contentLength(lengths).map { .length($0) } ?? .untilClose
    }

    private static func contentLength(_ values: [String]) throws(HTTPWireError) -> Int? {
        let all = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingWhitespace() }
        guard let first = all.first else { return nil }
        guard all.allSatisfy({ $0 == first }) else { throw .malformed("differing Content-Lengths \(values)") }
        guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), first.count <= 15, let length = Int(first) else {
            throw .malformed("invalid Content-Length \(first.debugDescription)")
        }
        return length
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let c = scalars.first, c == " " || c == "\t" { scalars.removeFirst() }
        while let c = scalars.last, c == " " || c == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
