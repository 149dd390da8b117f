import FaultlineHTTP1
import Testing

@Suite struct SerializerTests {
    @Test func writesAResponseWithContentLength() throws {
        let head = HTTPResponseHead(status: 404, headers: ["Content-Type": "application/json", "Content-Length": "999"])
        let output = try HTTP1Serializer.response(head, body: bytes("{}"))
        #expect(String(decoding: output, as: UTF8.self)
                    == "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test func bodylessStatusesGetNoContentLength() throws {
        let output = try HTTP1Serializer.response(HTTPResponseHead(status: 204), body: bytes("ignored"))
        #expect(String(decoding: output, as: UTF8.self) == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test func writesARequestThatParsesBack() throws {
        let head = HTTPRequestHead(method: "POST", target: "/v1/faults", headers: ["Host": "localhost", "X-Id": "1"])
        let output = try HTTP1Serializer.request(head, body: bytes("{\"a\":1}"))
        let seen = requestEvents(output)
        #expect(seen == [
            .head(HTTPRequestHead(method: "POST", target: "/v1/faults",
                                  headers: ["Host": "localhost", "X-Id": "1", "Content-Length": "7"], framing: .contentLength(7))),
            .body(bytes("{\"a\":1}")),
            .end([:]),
        ])
    }

    @Test func chunksParseBack() throws {
        var output: [UInt8] = []
        try HTTP1Serializer.appendHead(HTTPResponseHead(status: 200, headers: ["Transfer-Encoding": "chunked"]), to: &output)
        HTTP1Serializer.appendChunk(bytes("hello "), to: &output)
        HTTP1Serializer.appendChunk([UInt8](), to: &output)
        HTTP1Serializer.appendChunk([UInt8](repeating: 0x61, count: 300), to: &output)
        try HTTP1Serializer.appendLastChunk(trailers: ["X-Sum": "1"], to: &output)
        let seen = responseEvents(output)
        #expect(seen.suffix(2) == [.body(bytes("hello ") + [UInt8](repeating: 0x61, count: 300)), .end(["X-Sum": "1"])])
    }

    @Test(arguments: [
        (HTTPField(name: "X-A", value: "a\r\nInjected: 1"), HTTPSerializationError.invalidHeaderValue(name: "X-A")),
        (HTTPField(name: "X-A", value: "a\nb"), .invalidHeaderValue(name: "X-A")),
        (HTTPField(name: "X-A", value: " padded"), .invalidHeaderValue(name: "X-A")),
        (HTTPField(name: "Bad Name", value: "v"), .invalidHeaderName("Bad Name")),
        (HTTPField(name: "", value: "v"), .invalidHeaderName("")),
    ])
    func refusesFieldsThatWouldSplitTheMessage(field: HTTPField, error: HTTPSerializationError) {
        let headers = HTTPHeaders([field])
        var output: [UInt8] = []
        #expect(throws: error) { try HTTP1Serializer.appendHead(HTTPResponseHead(status: 200, headers: headers), to: &output) }
        #expect(output.isEmpty)
    }

    @Test func refusesABadStartLine() {
        var output: [UInt8] = []
        #expect(throws: HTTPSerializationError.invalidTarget("/a b")) {
            try HTTP1Serializer.appendHead(HTTPRequestHead(method: "GET", target: "/a b"), to: &output)
        }
        #expect(throws: HTTPSerializationError.invalidMethod("G T")) {
            try HTTP1Serializer.appendHead(HTTPRequestHead(method: "G T", target: "/"), to: &output)
        }
        #expect(throws: HTTPSerializationError.invalidStatus(99)) {
            try HTTP1Serializer.appendHead(HTTPResponseHead(status: 99), to: &output)
        }
    }

    @Test func headersHelpers() {
        var headers: HTTPHeaders = ["A": "1", "b": "2", "a": "3"]
        headers.replaceOrAppend(name: "a", value: "x")
        #expect(headers.fields == [HTTPField(name: "A", value: "x"), HTTPField(name: "b", value: "2")])
        headers.append(name: "Connection", value: "keep-alive, Upgrade")
        #expect(headers.tokens(for: "connection") == ["keep-alive", "upgrade"])
        headers.remove(name: "B")
        #expect(!headers.contains("b"))
    }
}
