import FaultlineHTTP1
import Testing

@Suite struct ResponseParserTests {
    @Test func parsesAContentLengthResponse() {
        let seen = responseEvents(bytes("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
        #expect(seen == [
            .head(HTTPResponseHead(status: 201, reason: "Created", headers: ["Content-Type": "application/json", "Content-Length": "2"],
                                   framing: .contentLength(2))),
            .body(bytes("{}")),
            .end([:]),
        ])
    }

    @Test func aBodyWithoutLengthRunsUntilClose() {
        let input = bytes("HTTP/1.1 200 OK\r\n\r\nsome bytes")
        let open = responseEvents(input)
        #expect(open.count == 2)
        let closed = responseEvents(input, finish: true)
        #expect(closed.count == 3)
        #expect(closed[1] == .body(bytes("some bytes")))
        #expect(closed[2] == .end([:]))
        guard case .head(let head) = closed[0] else { return }
        #expect(head.framing == .untilClose)
        #expect(!head.keepAlive)
    }

    @Test func aResponseWithoutReasonIsAccepted() {
        let seen = responseEvents(bytes("HTTP/1.1 204\r\n\r\n"))
        #expect(seen == [.head(HTTPResponseHead(status: 204, reason: "", framing: .none)), .end([:])])
    }

    @Test func headAnd204And304HaveNoBody() {
        let input = bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        let seen = responseEvents(input, methods: ["HEAD", "GET", "GET"])
        #expect(seen.count == 6)
        #expect(!seen.contains { if case .body = $0 { return true } else { return false } })
    }

    @Test func interimResponsesPrecedeTheFinalOne() {
        let input = bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
                          + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        let seen = responseEvents(input, methods: ["POST", "HEAD"])
        let statuses = seen.compactMap { event -> Int? in
            if case .head(let head) = event { return head.status }
            return nil
        }
        #expect(statuses == [100, 103, 200, 200])
        #expect(seen.contains(.body(bytes("x"))))
    }

    @Test func switchingProtocolsStopsTheParser() {
        var parser = HTTPResponseParser()
        parser.feed(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n") + [0x81, 0x00])
        #expect(throws: Never.self) {
            guard case .head(let head)? = try parser.next() else { Issue.record("no head"); return }
            #expect(head.status == 101)
            #expect(try parser.next() == .end(trailers: [:]))
            #expect(try parser.next() == nil)
        }
        #expect(parser.isStopped)
        #expect(parser.takeRemainingBytes() == [0x81, 0x00])
    }

    @Test func connectSuccessStartsATunnel() {
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: "CONNECT")
        parser.feed(bytes("HTTP/1.1 200 Connection Established\r\n\r\nTLS"))
        #expect(throws: Never.self) {
            _ = try parser.next()
            #expect(try parser.next() == .end(trailers: [:]))
            #expect(try parser.next() == nil)
        }
        #expect(parser.takeRemainingBytes() == bytes("TLS"))
    }

    @Test func chunkedResponseWithTrailers() {
        let seen = responseEvents(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\nGrpc-Status: 0\r\n\r\n"))
        #expect(seen.suffix(2) == [.body(bytes("wiki")), .end(["Grpc-Status": "0"])])
    }

    @Test func nonChunkedTransferEncodingRunsUntilClose() {
        let seen = responseEvents(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz"), finish: true)
        #expect(seen.suffix(2) == [.body(bytes("zz")), .end([:])])
    }

    @Test func http10ResponseClosesByDefault() {
        let seen = responseEvents(bytes("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\n"))
        #expect(seen.count == 2)
        guard case .head(let head) = seen[0] else { return }
        #expect(!head.keepAlive)
    }

    @Test func truncatedResponseIsAnError() {
        #expect(responseEvents(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), finish: true).last == .error(.unexpectedEndOfStream))
    }

    static let malformed: [(String, HTTPParseError)] = [
        ("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", .bareLineFeed),
        ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 200OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 abc OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 099 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 600 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .invalidReasonPhrase),
        ("HTTP/3.0 200 OK\r\n\r\n", .unsupportedVersion(HTTPVersion(major: 3, minor: 0))),
        ("HTTQ/1.1 200 OK\r\n\r\n", .invalidVersion),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .conflictingContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10),
        ("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", .obsoleteLineFolding),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedInput(input: String, error: HTTPParseError) {
        #expect(responseEvents(bytes(input)).last == .error(error), "\(input.debugDescription)")
        #expect(responseEvents(bytes(input), pieces: Array(repeating: 1, count: input.utf8.count)).last == .error(error))
    }

    @Test func anySplitGivesTheSameEvents() {
        let input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nwxyzHTTP/1.1 500 Oops\r\n\r\ntrailing body"
        let whole = responseEvents(bytes(input), finish: true)
        #expect(whole.last == .end([:]))
        #expect(responseEvents(bytes(input), pieces: Array(repeating: 1, count: input.utf8.count), finish: true) == whole)
        for seed in 1...20 as ClosedRange<UInt64> {
            #expect(responseEvents(bytes(input), pieces: pseudoRandomPieces(count: input.utf8.count, seed: seed), finish: true) == whole)
        }
    }
}
