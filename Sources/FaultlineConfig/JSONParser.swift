/// A strict RFC 8259 JSON parser for UTF-8 input.
///
/// Strict means: no comments, no trailing commas, no single quotes, no leading zeros, no `NaN`,
/// only the four JSON whitespace bytes, no raw control characters in strings, valid UTF-8 only,
/// `\u` escapes must form whole scalars (surrogate pairs combined, lone surrogates rejected), and
/// nesting is limited to `maxDepth`. A leading UTF-8 byte-order mark is skipped. Any value may be
/// the top level. An object that repeats a key is an error (see `JSONParseError`).
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted; `[[…]]` 64 deep is fine, 65 is not.
    public static let maxDepth = 64

    /// Parses a whole JSON text.
    public static func parse(_ text: String) -> Result<JSONValue, JSONParseError> {
        parse(bytes: Array(text.utf8))
    }

    /// Parses a whole JSON text given as UTF-8 bytes.
    public static func parse(bytes: [UInt8]) -> Result<JSONValue, JSONParseError> {
        var scanner = JSONScanner(bytes: bytes, failOnDuplicateKey: true)
        do {
            return .success(try scanner.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    /// Parses like `parse(bytes:)` but lets a document with repeated keys through, keeping each
    /// key's first value, so that a config decoder can report every duplicate alongside every other
    /// error. A syntax error still fails.
    static func parseReportingDuplicates(
        bytes: [UInt8]
    ) -> (value: Result<JSONValue, JSONParseError>, duplicates: [JSONParseError]) {
        var scanner = JSONScanner(bytes: bytes, failOnDuplicateKey: false)
        do {
            let value = try scanner.parseDocument()
            return (.success(value), scanner.duplicates)
        } catch {
            return (.failure(error), scanner.duplicates)
        }
    }
}

/// The cursor behind `JSONParser`; one per document.
struct JSONScanner {
    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    private let bytes: [UInt8]
    private let failOnDuplicateKey: Bool
    private var offset = 0
    private var depth = 0
    private var path: [PathComponent] = []
    private(set) var duplicates: [JSONParseError] = []

    init(bytes: [UInt8], failOnDuplicateKey: Bool) {
        self.bytes = bytes
        self.failOnDuplicateKey = failOnDuplicateKey
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { offset = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if offset < bytes.count { throw syntaxError("unexpected data after the JSON value") }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard offset < bytes.count else { throw syntaxError("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw unexpectedByte()
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        offset += 1
        var object = JSONObject()
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            offset += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                if offset >= bytes.count { throw syntaxError("unexpected end of input") }
                throw syntaxError("expected a string key")
            }
            let keyOffset = offset
            let key = try parseString()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw syntaxError("expected ':' after object key") }
            offset += 1
            skipWhitespace()
            path.append(.key(key))
            let value = try parseValue()
            path.removeLast()
            if object[key] != nil {
                let error = JSONParseError(
                    path: currentPath(), reason: "duplicate key \(JSONWriter.render(.string(key)))",
                    isDuplicateKey: true, offset: keyOffset, in: bytes
                )
                if failOnDuplicateKey { throw error }
                duplicates.append(error)
            } else {
                object[key] = value
            }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                offset += 1
                continue
            }
            if peek(UInt8(ascii: "}")) {
                offset += 1
                depth -= 1
                return .object(object)
            }
            if offset >= bytes.count { throw syntaxError("unexpected end of input") }
            throw syntaxError("expected ',' or '}' after object member")
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        offset += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            offset += 1
            depth -= 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            path.append(.index(items.count))
            items.append(try parseValue())
            path.removeLast()
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                offset += 1
                continue
            }
            if peek(UInt8(ascii: "]")) {
                offset += 1
                depth -= 1
                return .array(items)
            }
            if offset >= bytes.count { throw syntaxError("unexpected end of input") }
            throw syntaxError("expected ',' or ']' after array element")
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maxDepth {
            throw syntaxError("nesting deeper than \(JSONParser.maxDepth) levels")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            offset + count <= bytes.count && (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        guard matches else { throw syntaxError("invalid literal (expected true, false or null)") }
        offset += count
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = offset
        var isInteger = true
        if peek(UInt8(ascii: "-")) { offset += 1 }
        guard offset < bytes.count, isDigit(bytes[offset]) else { throw syntaxError("expected a digit after '-'") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if offset < bytes.count, isDigit(bytes[offset]) {
                throw syntaxError("leading zeros are not allowed")
            }
        } else {
            skipDigits()
        }
        if peek(UInt8(ascii: ".")) {
            isInteger = false
            offset += 1
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw syntaxError("expected a digit after '.'") }
            skipDigits()
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            isInteger = false
            offset += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { offset += 1 }
            guard offset < bytes.count, isDigit(bytes[offset]) else {
                throw syntaxError("expected a digit in the exponent")
            }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if isInteger {
            if let value = Int64(text) { return .integer(value) }
            if let value = UInt64(text) { return .unsignedInteger(value) }
        }
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(path: JSONPath.root, reason: "number out of range", offset: start, in: bytes)
        }
        return .double(value)
    }

    private mutating func skipDigits() {
        while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = offset
        offset += 1
        var buffer: [UInt8] = []
        var sawNonASCII = false
        while true {
            guard offset < bytes.count else {
                throw JSONParseError(path: JSONPath.root, reason: "unterminated string", offset: start, in: bytes)
            }
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                if !sawNonASCII { return String(decoding: buffer, as: UTF8.self) }
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw JSONParseError(path: JSONPath.root, reason: "invalid UTF-8 in string", offset: start, in: bytes)
                }
                return text
            case UInt8(ascii: "\\"):
                let scalar = try parseEscape()
                UTF8.encode(scalar) { buffer.append($0) }
            case 0..<0x20:
                throw syntaxError("control character \(hexScalar(UInt32(byte))) in string (escape it)")
            default:
                if byte >= 0x80 { sawNonASCII = true }
                buffer.append(byte)
                offset += 1
            }
        }
    }

    /// Parses the escape at `offset` (which points at the backslash).
    private mutating func parseEscape() throws(JSONParseError) -> Unicode.Scalar {
        let escapeStart = offset
        offset += 1
        guard offset < bytes.count else {
            throw JSONParseError(path: JSONPath.root, reason: "unterminated string", offset: escapeStart, in: bytes)
        }
        let letter = bytes[offset]
        offset += 1
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try parseHex4(escapeStart: escapeStart)
            if (0xDC00...0xDFFF).contains(high) {
                throw JSONParseError(
                    path: JSONPath.root, reason: "lone surrogate \\u\(hex4(high))", offset: escapeStart, in: bytes
                )
            }
            if (0xD800...0xDBFF).contains(high) {
                let lowStart = offset
                guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                      bytes[offset + 1] == UInt8(ascii: "u")
                else {
                    throw JSONParseError(
                        path: JSONPath.root, reason: "lone surrogate \\u\(hex4(high))", offset: escapeStart, in: bytes
                    )
                }
                offset += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONParseError(
                        path: JSONPath.root, reason: "lone surrogate \\u\(hex4(high))", offset: escapeStart, in: bytes
                    )
                }
                let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                return Unicode.Scalar(value)!
            }
            return Unicode.Scalar(high)!
        default:
            let shown = letter >= 0x20 && letter < 0x7F
                ? "'\\\(Character(Unicode.Scalar(letter)))'"
                : "(byte 0x\(hex2(letter)))"
            throw JSONParseError(path: JSONPath.root, reason: "invalid escape \(shown)", offset: escapeStart, in: bytes)
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        guard offset + 4 <= bytes.count else {
            throw JSONParseError(path: JSONPath.root, reason: "invalid \\u escape", offset: escapeStart, in: bytes)
        }
        var value: UInt32 = 0
        for byte in bytes[offset..<offset + 4] {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default:
                throw JSONParseError(path: JSONPath.root, reason: "invalid \\u escape", offset: escapeStart, in: bytes)
            }
            value = value << 4 | digit
        }
        offset += 4
        return value
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool {
        offset < bytes.count && bytes[offset] == byte
    }

    private func syntaxError(_ reason: String) -> JSONParseError {
        JSONParseError(path: JSONPath.root, reason: reason, offset: offset, in: bytes)
    }

    private func unexpectedByte() -> JSONParseError {
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F {
            return syntaxError("unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
        return syntaxError("unexpected byte 0x\(hex2(byte))")
    }

    private func currentPath() -> String {
        var result = JSONPath.root
        for component in path {
            switch component {
            case .key(let key): result = JSONPath.child(result, key)
            case .index(let index): result = JSONPath.index(result, index)
            }
        }
        return result
    }

    private func hex2(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0" + text : text
    }

    private func hex4(_ value: UInt32) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }

    private func hexScalar(_ value: UInt32) -> String {
        "U+" + hex4(value)
    }
}
