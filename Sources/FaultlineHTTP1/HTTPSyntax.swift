/// Character classes of RFC 9110/9112, on bytes.
public enum HTTPSyntax {
    /// `tchar`: the characters of a token (method, field name, transfer coding).
    @inline(__always)
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A non-empty run of token characters.
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// A byte allowed inside a field value: visible ASCII, SP, HTAB, or obs-text (0x80–0xFF).
    @inline(__always)
    public static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// A field value that can be written as is: allowed bytes, no leading or trailing whitespace.
    public static func isValidFieldValue(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.allSatisfy(isFieldValueByte) else { return false }
        if let first = bytes.first, isWhitespace(first) { return false }
        if let last = bytes.last, isWhitespace(last) { return false }
        return true
    }

    /// A request-target byte: visible ASCII only (no SP, controls, DEL or non-ASCII).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    @inline(__always)
    static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    static func lowercasedASCII(_ text: Substring) -> String {
        String(decoding: text.utf8.map(lowercase), as: UTF8.self)
    }

    static func trimmingWhitespace(_ text: Substring) -> Substring {
        var slice = text
        while let first = slice.utf8.first, isWhitespace(first) { slice = slice.dropFirst() }
        while let last = slice.utf8.last, isWhitespace(last) { slice = slice.dropLast() }
        return slice
    }
}
