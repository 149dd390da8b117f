import FaultlineConfig
import Testing

@Suite struct JSONWriterTests {
    @Test func rendersCompactlyInStoredOrder() {
        let value: JSONValue = ["b": 1, "a": [1.5, "x", nil, false], "c": [:], "d": []]
        #expect(JSONWriter.render(value) == #"{"b":1,"a":[1.5,"x",null,false],"c":{},"d":[]}"#)
    }

    @Test func escapesStrings() {
        let value = JSONValue.string("q\"b\\n\n\r\t\u{08}\u{0C}\u{01}\u{1F}é😀/")
        #expect(JSONWriter.render(value) == #""q\"b\\n\n\r\t\b\f\u0001\u001Fé😀/""#)
    }

    @Test func numbers() {
        #expect(JSONWriter.render(.integer(-42)) == "-42")
        #expect(JSONWriter.render(.unsignedInteger(UInt64.max)) == "18446744073709551615")
        #expect(JSONWriter.render(.double(1)) == "1.0")
        #expect(JSONWriter.render(.double(0.25)) == "0.25")
        #expect(JSONWriter.render(.double(.infinity)) == "null")
        #expect(JSONWriter.render(.double(.nan)) == "null")
    }

    @Test(arguments: [
        #"{"z":[1,2,{"k":"v"}],"a":null,"m":-0.5,"u":"\u0000\n"}"#,
        #"[18446744073709551615,-9223372036854775808,true,"é😀"]"#,
        #""\\\"""#,
        "1.0e-07",
    ])
    func parseRenderParseIsStable(text: String) throws {
        let value = try JSONParser.parse(text).get()
        let rendered = JSONWriter.render(value)
        #expect(try JSONParser.parse(rendered).get() == value)
        #expect(JSONWriter.render(try JSONParser.parse(rendered).get()) == rendered)
    }

    @Test func objectEditingKeepsOrder() {
        var object = JSONObject([("a", 1), ("b", 2), ("c", 3)])
        object["b"] = nil
        object["d"] = 4
        object["a"] = 9
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["c"] == 3)
        #expect(object["b"] == nil)
        #expect(JSONWriter.render(.object(object)) == #"{"a":9,"c":3,"d":4}"#)
        #expect(JSONObject([("x", 1), ("y", 2)]) != JSONObject([("y", 2), ("x", 1)]))
    }
}
