/// Why a JSON text was rejected, and where.
///
/// Rendered as `PATH: MESSAGE`:
/// - syntax errors: `$: invalid JSON at line 3, column 5: expected ',' or '}' after object member`
/// - duplicate keys: `routes[0]: duplicate key "name" at line 7, column 9` (the path is the object's)
///
/// Syntax REASONs: `unexpected end of input`, `unexpected character 'x'`, `unexpected byte 0xNN`,
/// `expected a string key`, `expected ':' after object key`, `expected ',' or '}' after object
/// member`, `expected ',' or ']' after array element`, `invalid literal (expected true, false or
/// null)`, `leading zeros are not allowed`, `expected a digit after '-'` / `'.'`, `expected a digit in
/// the exponent`, `number out of range`, `unterminated string`, `control character U+000A in string
/// (escape it)`, `invalid escape '\x'`, `invalid \u escape`, `lone surrogate \uD800`, `invalid UTF-8
/// in string`, `nesting deeper than 64 levels`, `unexpected data after the JSON value`.
///
/// Lines and columns start at 1; a column counts Unicode scalars, so a multi-byte character is one
/// column. Only LF ends a line.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `$` for syntax errors; the path of the object that repeats a key for duplicates.
    public var path: String
    /// The bare reason, without location: `expected ':' after object key`.
    public var reason: String
    /// True when the text is well-formed but an object repeats a key.
    public var isDuplicateKey: Bool
    /// Byte offset of the problem in the UTF-8 input.
    public var offset: Int
    /// 1-based line of `offset`.
    public var line: Int
    /// 1-based column of `offset`, in Unicode scalars.
    public var column: Int

    /// The error without its path: `invalid JSON at line L, column C: REASON`, or
    /// `REASON at line L, column C` for a duplicate key.
    public var message: String {
        isDuplicateKey
            ? "\(reason) at line \(line), column \(column)"
            : "invalid JSON at line \(line), column \(column): \(reason)"
    }

    /// `PATH: MESSAGE`.
    public var description: String { "\(path): \(message)" }

    /// Builds an error, working out line and column from `offset` in `bytes`.
    init(path: String, reason: String, isDuplicateKey: Bool = false, offset: Int, in bytes: [UInt8]) {
        self.path = path
        self.reason = reason
        self.isDuplicateKey = isDuplicateKey
        self.offset = offset
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        self.line = line
        self.column = column
    }
}
