import FaultlineConfig
import Testing

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text).get()
    }

    private func failure(_ text: String) -> String? {
        switch JSONParser.parse(text) {
        case .success: return nil
        case .failure(let error): return error.description
        }
    }

    @Test func scalarsKeepTheirKind() throws {
        #expect(try parse("1") == .integer(1))
        #expect(try parse("-0") == .integer(0))
        #expect(try parse("1.0") == .double(1.0))
        #expect(try parse("1e2") == .double(100))
        #expect(try parse("-2.5E-3") == .double(-0.0025))
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("null") == .null)
        #expect(try parse(#""hi""#) == .string("hi"))
        #expect(try parse(" \t\r\n 7 \n") == .integer(7))
    }

    @Test func integersAtTheEdges() throws {
        #expect(try parse("9223372036854775807") == .integer(Int64.max))
        #expect(try parse("-9223372036854775808") == .integer(Int64.min))
        #expect(try parse("9223372036854775808") == .unsignedInteger(9_223_372_036_854_775_808))
        #expect(try parse("18446744073709551615") == .unsignedInteger(UInt64.max))
        #expect(try parse("18446744073709551616") == .double(18_446_744_073_709_551_616))
        #expect(try parse("-9223372036854775809") == .double(-9.223372036854775808e18))
    }

    @Test func objectsKeepKeyOrder() throws {
        let value = try parse(#"{"z": 1, "a": [true, null], "m": {"y": "x", "b": 2}}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["m"]?.objectValue?.keys == ["y", "b"])
        #expect(object["a"] == [true, nil])
        #expect(JSONWriter.render(value) == #"{"z":1,"a":[true,null],"m":{"y":"x","b":2}}"#)
    }

    @Test func escapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u00E9""#) == .string("éé"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse("\"µs 😀\"") == .string("µs 😀"))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try JSONParser.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("[1]".utf8)).get() == [1])
    }

    @Test(arguments: [
        ("", "$: invalid JSON at line 1, column 1: unexpected end of input"),
        ("   ", "$: invalid JSON at line 1, column 4: unexpected end of input"),
        ("{", "$: invalid JSON at line 1, column 2: unexpected end of input"),
        (#"{"a" 1}"#, "$: invalid JSON at line 1, column 6: expected ':' after object key"),
        (#"{"a": 1 "b": 2}"#, "$: invalid JSON at line 1, column 9: expected ',' or '}' after object member"),
        (#"{"a": 1,}"#, "$: invalid JSON at line 1, column 9: expected a string key"),
        ("{a: 1}", "$: invalid JSON at line 1, column 2: expected a string key"),
        ("[1,]", "$: invalid JSON at line 1, column 4: unexpected character ']'"),
        ("[1 2]", "$: invalid JSON at line 1, column 4: expected ',' or ']' after array element"),
        ("[1", "$: invalid JSON at line 1, column 3: unexpected end of input"),
        ("01", "$: invalid JSON at line 1, column 2: leading zeros are not allowed"),
        ("-", "$: invalid JSON at line 1, column 2: expected a digit after '-'"),
        ("1.", "$: invalid JSON at line 1, column 3: expected a digit after '.'"),
        ("1e", "$: invalid JSON at line 1, column 3: expected a digit in the exponent"),
        (".5", "$: invalid JSON at line 1, column 1: unexpected character '.'"),
        ("+1", "$: invalid JSON at line 1, column 1: unexpected character '+'"),
        ("1e400", "$: invalid JSON at line 1, column 1: number out of range"),
        ("NaN", "$: invalid JSON at line 1, column 1: unexpected character 'N'"),
        ("tru", "$: invalid JSON at line 1, column 1: invalid literal (expected true, false or null)"),
        ("nul1", "$: invalid JSON at line 1, column 1: invalid literal (expected true, false or null)"),
        ("'a'", "$: invalid JSON at line 1, column 1: unexpected character '''"),
        ("[1] 2", "$: invalid JSON at line 1, column 5: unexpected data after the JSON value"),
        ("// c\n1", "$: invalid JSON at line 1, column 1: unexpected character '/'"),
        ("\"abc", "$: invalid JSON at line 1, column 1: unterminated string"),
        ("\"a\nb\"", "$: invalid JSON at line 1, column 3: control character U+000A in string (escape it)"),
        (#""\x""#, "$: invalid JSON at line 1, column 2: invalid escape '\\x'"),
        (#""\u12G4""#, "$: invalid JSON at line 1, column 2: invalid \\u escape"),
        (#""\ud800""#, "$: invalid JSON at line 1, column 2: lone surrogate \\uD800"),
        (#""\ud800\u0041""#, "$: invalid JSON at line 1, column 2: lone surrogate \\uD800"),
        (#""\udc00""#, "$: invalid JSON at line 1, column 2: lone surrogate \\uDC00"),
        ("\u{A0}1", "$: invalid JSON at line 1, column 1: unexpected byte 0xC2"),
        ("{\n  \"a\": 1,\n  \"b\" 2\n}", "$: invalid JSON at line 3, column 7: expected ':' after object key"),
        ("[\"é\", x]", "$: invalid JSON at line 1, column 7: unexpected character 'x'"),
    ])
    func syntaxErrors(text: String, expected: String) {
        #expect(failure(text) == expected)
    }

    @Test func invalidUTF8InStringIsRejected() {
        let bytes: [UInt8] = [0x22, 0x61, 0xC3, 0x28, 0x22]
        guard case .failure(let error) = JSONParser.parse(bytes: bytes) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(error.description == "$: invalid JSON at line 1, column 1: invalid UTF-8 in string")
        // An encoded surrogate (ED A0 80) is not valid UTF-8 either.
        #expect((try? JSONParser.parse(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22]).get()) == nil)
    }

    @Test func nestingIsLimitedTo64() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try parse(ok).arrayValue != nil)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(failure(deep) == "$: invalid JSON at line 1, column 65: nesting deeper than 64 levels")
        let deepObject = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(failure(deepObject) == "$: invalid JSON at line 1, column 321: nesting deeper than 64 levels")
    }

    @Test func duplicateKeysNameTheObjectAndPosition() {
        #expect(failure(#"{"a": 1, "a": 2}"#) == #"$: duplicate key "a" at line 1, column 10"#)
        #expect(
            failure("{\"routes\": [{}, {\"name\": \"x\",\n  \"name\": \"y\"}]}")
                == #"routes[1]: duplicate key "name" at line 2, column 3"#
        )
        #expect(failure(#"{"n": {"a b": {"k": 1, "k": 1}}}"#) == #"n["a b"]: duplicate key "k" at line 1, column 24"#)
    }

    @Test func errorCarriesItsParts() {
        guard case .failure(let error) = JSONParser.parse("[\n 1,\n x]") else {
            Issue.record("accepted")
            return
        }
        #expect(error.path == "$")
        #expect(error.reason == "unexpected character 'x'")
        #expect(error.offset == 7)
        #expect(error.line == 3)
        #expect(error.column == 2)
        #expect(!error.isDuplicateKey)
    }
}
