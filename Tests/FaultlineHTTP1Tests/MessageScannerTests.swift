import FaultlineHTTP1
import Testing

@Suite struct MessageScannerTests {
    typealias Event = HTTP1MessageScanner.Event

    static func length(_ text: String) -> Int { text.utf8.count }

    // MARK: Event sequences

    @Test func get() {
        let head = "GET /v1/status?x=1 HTTP/1.1\r\nhost:  localhost \r\nX-B:\tone\r\n\r\n"
        let run = scan(bytes(head), role: .request)
        let expected = HTTPRequestHead(
            method: "GET", target: "/v1/status?x=1", headers: ["host": "localhost", "X-B": "one"], framing: .none)
        #expect(run.events == [.requestHead(expected, length: Self.length(head)), .end(length: 0)])
        #expect(run.error == nil)
        #expect(run.covered == head.utf8.count)
        #expect(run.scanner.isIdle)
        #expect(!run.scanner.isStopped)
    }

    @Test func postWithContentLength() {
        let head = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
        let run = scan(bytes(head + "hello"), role: .request)
        let expected = HTTPRequestHead(method: "POST", target: "/p", headers: ["Host": "h", "Content-Length": "5"], framing: .contentLength(5))
        #expect(run.events == [.requestHead(expected, length: Self.length(head)), .body(length: 5), .end(length: 0)])
    }

    @Test func aZeroLengthBodyEndsWithoutMoreBytes() throws {
        let head = bytes("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
        var scanner = HTTP1MessageScanner(role: .request)
        guard case .requestHead(let parsed, let length) = try scanner.next(head, atEnd: false) else {
            Issue.record("no head")
            return
        }
        #expect(parsed.framing == .contentLength(0))
        #expect(length == head.count)
        #expect(!scanner.isIdle)
        #expect(try scanner.next([UInt8](), atEnd: false) == .end(length: 0))
        #expect(scanner.isIdle)
        #expect(try scanner.next([UInt8](), atEnd: true) == .needMore)
    }

    static let chunkedHead = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
    static let chunkedChunks = "5;name=value;quoted=\"a \\\" b\" ; bare\r\nhello\r\n" + "A\r\n, world!!!\r\n"
    static let chunkedEnd = "0;last=1\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"

    @Test func chunkedWithExtensionsAndTrailersKeepsEveryRawByte() {
        let input = bytes(Self.chunkedHead + Self.chunkedChunks + Self.chunkedEnd + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        let run = scan(input, role: .request)
        guard run.events.count == 5, case .requestHead(let head, _) = run.events[0] else {
            Issue.record("events: \(run.events)")
            return
        }
        #expect(head.framing == .chunked)
        #expect(head.headers["transfer-encoding"] == "gzip, Chunked")
        #expect(Array(run.events[0...2]) == [
            .requestHead(head, length: Self.length(Self.chunkedHead)),
            .body(length: Self.length(Self.chunkedChunks)),
            .end(length: Self.length(Self.chunkedEnd)),
        ])
        #expect(run.covered == input.count)
        // Dripped, a body is cut into more events, but the end is the same bytes.
        let dripped = scan(input, role: .request, pieces: Array(repeating: 1, count: input.count))
        #expect(dripped.merged == run.events)
        #expect(dripped.events.contains(.end(length: Self.length(Self.chunkedEnd))))
    }

    @Test func chunkedBodyBytesGoOutAsTheyArrive() throws {
        var scanner = HTTP1MessageScanner(role: .request)
        let head = bytes(Self.chunkedHead)
        _ = try scanner.next(head, atEnd: false)
        // A complete size line is forwarded before its data arrives; a partial one is not.
        #expect(try scanner.next(bytes("5;x=y\r"), atEnd: false) == .needMore)
        #expect(try scanner.next(bytes("5;x=y\r\n"), atEnd: false) == .body(length: 7))
        #expect(try scanner.next(bytes("he"), atEnd: false) == .body(length: 2))
        #expect(try scanner.next(bytes("llo\r"), atEnd: false) == .body(length: 3))
        #expect(try scanner.next(bytes("\r\n0\r\n"), atEnd: false) == .body(length: 2))
        #expect(try scanner.next(bytes("0\r\n"), atEnd: false) == .needMore)
        #expect(try scanner.next(bytes("0\r\nT: 1\r\n\r\n"), atEnd: false) == .end(length: 11))
        #expect(scanner.isIdle)
    }

    @Test func pipelinedRequestsInOneBuffer() {
        let a = "\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        let b = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"
        let c = "GET /c HTTP/1.0\r\n\r\n"
        let input = bytes(a + b + "xyz" + c + "GET /d HTTP/1.1\r\nHost: h\r\n\r\n")
        let run = scan(input, role: .request)
        #expect(run.events == [
            .requestHead(HTTPRequestHead(method: "GET", target: "/a", headers: ["Host": "h"]), length: Self.length(a)),
            .end(length: 0),
            .requestHead(HTTPRequestHead(method: "POST", target: "/b", headers: ["Host": "h", "Content-Length": "3"],
                                         framing: .contentLength(3)), length: Self.length(b)),
            .body(length: 3),
            .end(length: 0),
            .requestHead(HTTPRequestHead(method: "GET", target: "/c", version: .http1_0), length: Self.length(c)),
            .end(length: 0),
        ])
        // HTTP/1.0 without keep-alive: nothing after it is parsed.
        #expect(run.scanner.isStopped)
        #expect(!run.scanner.isTunnel)
        #expect(run.covered == Self.length(a + b + "xyz" + c))
    }

    @Test func connectionCloseStops() throws {
        let first = "GET /a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n"
        let run = scan(bytes(first + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"), role: .request, atEnd: true)
        #expect(run.events.count == 2)
        #expect(run.events.last == .end(length: 0))
        #expect(run.error == nil)
        #expect(run.covered == Self.length(first))
        #expect(run.scanner.isStopped)
        #expect(!run.scanner.isIdle)
        var scanner = run.scanner
        #expect(try scanner.next(bytes("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"), atEnd: false) == .needMore)
    }

    @Test func headResponseWithContentLengthHasNoBody() {
        let first = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
        let second = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        let run = scan(bytes(first + second + "ok"), role: .response, methods: ["HEAD", "GET"])
        #expect(run.events == [
            .responseHead(HTTPResponseHead(status: 200, headers: ["Content-Length": "10"], framing: .none), length: Self.length(first)),
            .end(length: 0),
            .responseHead(HTTPResponseHead(status: 200, headers: ["Content-Length": "2"], framing: .contentLength(2)),
                          length: Self.length(second)),
            .body(length: 2),
            .end(length: 0),
        ])
    }

    @Test func continueThenFinalResponseToTheSameRequest() {
        let interim = "HTTP/1.1 100 Continue\r\n\r\n"
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        // The second answer is to a HEAD: had the 100 used up the POST, the 200 would be read as
        // the HEAD answer and "ok" as a status line.
        let headAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"
        let run = scan(bytes(interim + final + "ok" + headAnswer), role: .response, methods: ["POST", "HEAD"])
        #expect(run.error == nil)
        #expect(run.events == [
            .responseHead(HTTPResponseHead(status: 100, framing: .none), length: Self.length(interim)),
            .end(length: 0),
            .responseHead(HTTPResponseHead(status: 200, headers: ["Content-Length": "2"], framing: .contentLength(2)),
                          length: Self.length(final)),
            .body(length: 2),
            .end(length: 0),
            .responseHead(HTTPResponseHead(status: 200, headers: ["Content-Length": "7"], framing: .none),
                          length: Self.length(headAnswer)),
            .end(length: 0),
        ])
        #expect(run.scanner.isIdle)
    }

    @Test func switchingProtocolsMakesATunnel() throws {
        let head = bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        let frames: [UInt8] = [0x81, 0x00, 0x0A, 0x0D]
        var scanner = HTTP1MessageScanner(role: .response)
        scanner.expectResponse(toMethod: "GET")
        guard case .responseHead(let parsed, let length) = try scanner.next(head + frames, atEnd: false) else {
            Issue.record("no head")
            return
        }
        #expect(parsed.status == 101)
        #expect(length == head.count)
        #expect(scanner.isTunnel)
        #expect(try scanner.next(frames, atEnd: false) == .end(length: 0))
        #expect(scanner.isStopped)
        // Not HTTP any more: bytes that would be errors are not looked at.
        #expect(try scanner.next(frames, atEnd: false) == .needMore)
        #expect(try scanner.next(frames, atEnd: true) == .needMore)
    }

    @Test func connectSuccessMakesATunnelAndTheRequestSideFollows() throws {
        let request = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00]
        let requests = scan(bytes(request), role: .request)
        #expect(requests.events.count == 2)
        var requestScanner = requests.scanner
        let response = "HTTP/1.1 200 Connection Established\r\n\r\n"
        let responses = scan(bytes(response) + hello, role: .response, atEnd: true, methods: ["CONNECT"])
        #expect(responses.events == [
            .responseHead(HTTPResponseHead(status: 200, reason: "Connection Established", framing: .none), length: Self.length(response)),
            .end(length: 0),
        ])
        #expect(responses.error == nil)
        #expect(responses.scanner.isTunnel)
        #expect(responses.covered == Self.length(response))
        // The proxy tells the request side, which cannot know the answer.
        #expect(!requestScanner.isTunnel)
        requestScanner.enterTunnel()
        #expect(requestScanner.isTunnel)
        #expect(requestScanner.isStopped)
        #expect(try requestScanner.next(hello, atEnd: false) == .needMore)
    }

    @Test func aRefusedConnectIsNoTunnel() {
        let run = scan(bytes("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 1\r\n\r\nx"), role: .response,
                       methods: ["CONNECT"])
        #expect(run.events.count == 3)
        #expect(!run.scanner.isTunnel)
        #expect(run.scanner.isIdle)
    }

    @Test func untilCloseBody() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        var run = scan(bytes(head + "some bytes"), role: .response)
        #expect(run.events == [
            .responseHead(HTTPResponseHead(status: 200, headers: ["Content-Type": "text/plain"], framing: .untilClose),
                          length: Self.length(head)),
            .body(length: 10),
        ])
        #expect(try run.scanner.next(bytes("more"), atEnd: false) == .body(length: 4))
        #expect(try run.scanner.next(bytes("!"), atEnd: true) == .body(length: 1))
        #expect(try run.scanner.next([UInt8](), atEnd: true) == .end(length: 0))
        #expect(run.scanner.isStopped)
    }

    @Test func noContentAndNotModifiedHaveNoBody() {
        let a = "HTTP/1.1 204 No Content\r\n\r\n"
        let b = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n"
        let c = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"
        let run = scan(bytes(a + b + c), role: .response)
        #expect(run.events == [
            .responseHead(HTTPResponseHead(status: 204, framing: .none), length: Self.length(a)),
            .end(length: 0),
            .responseHead(HTTPResponseHead(status: 304, headers: ["Content-Length": "10", "ETag": "\"x\""], framing: .none),
                          length: Self.length(b)),
            .end(length: 0),
            .responseHead(HTTPResponseHead(status: 200, reason: "", headers: ["Content-Length": "0"], framing: .contentLength(0)),
                          length: Self.length(c)),
            .end(length: 0),
        ])
    }

    @Test func aLargeContentLengthBodyIsOneEvent() throws {
        let size = 256 * 1024
        let head = bytes("PUT /blob HTTP/1.1\r\nHost: h\r\nContent-Length: \(size)\r\n\r\n")
        let body = [UInt8](repeating: 0x0A, count: size)  // LFs: not looked at
        let run = scan(head + body + bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), role: .request)
        #expect(Array(run.events[1...2]) == [.body(length: size), .end(length: 0)])
        #expect(run.events.count == 5)
        // Half of it given: half reported, the rest when it comes.
        var scanner = HTTP1MessageScanner(role: .request)
        _ = try scanner.next(head, atEnd: false)
        #expect(try scanner.next(body[..<(size / 2)], atEnd: false) == .body(length: size / 2))
        #expect(try scanner.next(body[(size / 2)...], atEnd: false) == .body(length: size / 2))
        #expect(try scanner.next(body[0..<0], atEnd: false) == .end(length: 0))
    }

    @Test func idleOnlyBetweenMessages() throws {
        var scanner = HTTP1MessageScanner(role: .request)
        #expect(scanner.isIdle)
        // Empty lines alone are no message: a close now loses nothing.
        #expect(try scanner.next(bytes("\r\n\r\n"), atEnd: false) == .needMore)
        #expect(scanner.isIdle)
        #expect(try scanner.next(bytes("\r\n\r\nGE"), atEnd: false) == .needMore)
        #expect(!scanner.isIdle)
        #expect(try scanner.next(bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), atEnd: false)
                    == .requestHead(HTTPRequestHead(method: "GET", target: "/", headers: ["Host": "h"]), length: 31))
        #expect(!scanner.isIdle)
        #expect(try scanner.next([UInt8](), atEnd: false) == .end(length: 0))
        #expect(scanner.isIdle)
    }

    @Test func aCloseBetweenMessagesIsClean() {
        for input in ["", "\r\n", "\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"] {
            let run = scan(bytes(input), role: .request, atEnd: true)
            #expect(run.error == nil, "\(input.debugDescription)")
        }
        #expect(scan([], role: .response, atEnd: true).error == nil)
    }

    // MARK: Any split

    static let validRequests: [String] = RequestParserTests.valid + [
        chunkedHead + chunkedChunks + chunkedEnd,
        "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n",
    ]

    static let validResponses: [(String, [String])] = [
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nwxyzHTTP/1.1 500 Oops\r\n\r\ntrailing body", ["POST", "GET", "GET"]),
        ("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "2;a=b\r\nhi\r\n0\r\nGrpc-Status: 0\r\n\r\n", ["HEAD", "GET", "GET"]),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", ["GET"]),
    ]

    /// Whole, split at every offset, and byte by byte: the same heads, the same merged events,
    /// and every byte covered exactly once (the lengths add up to the input).
    func expectSplitInvariance(_ input: [UInt8], role: HTTP1MessageScanner.Role, methods: [String] = []) {
        let whole = scan(input, role: role, atEnd: true, methods: methods)
        #expect(whole.error == nil)
        #expect(whole.covered == input.count)
        for offset in 0...input.count {
            let split = scan(input, role: role, pieces: [offset, input.count - offset], atEnd: true, methods: methods)
            #expect(split.error == nil, "split at \(offset)")
            #expect(split.covered == input.count, "split at \(offset)")
            #expect(split.heads == whole.heads, "split at \(offset)")
            #expect(split.merged == whole.merged, "split at \(offset)")
        }
        let dripped = scan(input, role: role, pieces: Array(repeating: 1, count: input.count), atEnd: true, methods: methods)
        #expect(dripped.covered == input.count)
        #expect(dripped.merged == whole.merged)
    }

    @Test(arguments: validRequests)
    func requestsGiveTheSameEventsForAnySplit(input: String) {
        expectSplitInvariance(bytes(input), role: .request)
        // And the heads the request parser gives.
        let parsed = requestEvents(bytes(input), finish: true).compactMap { seen -> HTTPRequestHead? in
            if case .head(let head) = seen { return head }
            return nil
        }
        let scanned = scan(bytes(input), role: .request, atEnd: true).heads.compactMap { event -> HTTPRequestHead? in
            if case .requestHead(let head, _) = event { return head }
            return nil
        }
        #expect(scanned == parsed)
    }

    @Test(arguments: validResponses)
    func responsesGiveTheSameEventsForAnySplit(input: String, methods: [String]) {
        expectSplitInvariance(bytes(input), role: .response, methods: methods)
    }

    // MARK: Malformed input

    /// The error for `input` whole and byte by byte: no split may slip past a check.
    func expectError(_ input: [UInt8], role: HTTP1MessageScanner.Role, _ error: HTTPParseError, atEnd: Bool = false,
                     limits: HTTPParserLimits = .defaults, _ comment: Comment? = nil) {
        #expect(scan(input, role: role, atEnd: atEnd, limits: limits).error == error, comment)
        let dripped = scan(input, role: role, pieces: Array(repeating: 1, count: input.count), atEnd: atEnd, limits: limits)
        #expect(dripped.error == error, comment)
    }

    @Test(arguments: RequestParserTests.malformed)
    func rejectsWhatTheRequestParserRejects(input: String, error: HTTPParseError) {
        expectError(bytes(input), role: .request, error, "\(input.debugDescription)")
    }

    @Test(arguments: ResponseParserTests.malformed)
    func rejectsWhatTheResponseParserRejects(input: String, error: HTTPParseError) {
        expectError(bytes(input), role: .response, error, "\(input.debugDescription)")
    }

    @Test func aBareLineFeedIsCaughtBeforeTheHeadEnds() {
        for input in ["GET / HTTP/1.1\nHo", "GET / HTTP/1.1\r\nHost: h\nX", "\r\n\nGET"] {
            #expect(scan(bytes(input), role: .request).error == .bareLineFeed, "\(input.debugDescription)")
        }
        #expect(scan(bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB\n"), role: .response).error == .bareLineFeed)
        #expect(scan(bytes("GET / HTTP/1.1\r\nHost: h\rX"), role: .request).error == .bareCarriageReturn)
    }

    @Test func anOversizeHeadIs431() {
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 16 * 1024) + "\r\n\r\n"
        let run = scan(bytes(big), role: .request)
        #expect(run.error == .headTooLarge(limit: 16 * 1024))
        #expect(run.error?.suggestedStatus == 431)
        #expect(run.events.isEmpty)
        let limits = HTTPParserLimits(maxHeadBytes: 64)
        let exact = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 32) + "\r\n\r\n"
        #expect(scan(bytes(exact), role: .request, limits: limits).events.count == 2)
        expectError(bytes("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 33) + "\r\n\r\n"),
                    role: .request, .headTooLarge(limit: 64), limits: limits)
        // A head that never ends is refused before it does, so the caller's buffer stays bounded.
        expectError(bytes("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 100)), role: .request,
                    .headTooLarge(limit: 64), limits: limits)
        // A bare CR past the limit is too large, whether its successor came with it or not (found
        // by Scripts/fuzz http1).
        expectError(bytes("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 40) + "\r\r\n\r\n"),
                    role: .request, .headTooLarge(limit: 64), limits: limits)
        // Empty lines before the request line count, however they are split.
        expectError(bytes(String(repeating: "\r\n", count: 40)), role: .request, .headTooLarge(limit: 64), limits: limits)
        expectError(bytes("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n"), role: .response,
                    .headTooLarge(limit: 64), limits: limits)
    }

    @Test func tooManyHeaders() {
        let limits = HTTPParserLimits(maxHeaderCount: 3)
        expectError(bytes("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), role: .request,
                    .tooManyHeaders(limit: 3), limits: limits)
        let trailers = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        expectError(bytes(trailers), role: .request, .tooManyHeaders(limit: 3), limits: limits)
        #expect(scan(bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), role: .response, limits: limits).error
                    == .tooManyHeaders(limit: 3))
    }

    @Test func chunkLinesAreLimited() {
        let limits = HTTPParserLimits(maxChunkLineBytes: 16)
        let input = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "x", count: 20)
        expectError(bytes(input), role: .request, .chunkLineTooLong(limit: 16), limits: limits)
    }

    @Test func bodyLimitsHold() {
        let limits = HTTPParserLimits(maxBodyBytes: 4)
        expectError(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"), role: .request, .bodyTooLarge(limit: 4), limits: limits)
        expectError(bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
                    role: .request, .bodyTooLarge(limit: 4), limits: limits)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: h\r\n",
        "GET / HTT",
        "\r\n\r\nG",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n",
    ])
    func aMessageCutShortIsAnError(input: String) {
        expectError(bytes(input), role: .request, .unexpectedEndOfStream, atEnd: true, "\(input.debugDescription)")
    }

    @Test func aResponseCutShortIsAnError() {
        expectError(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), role: .response, .unexpectedEndOfStream, atEnd: true)
        expectError(bytes("HTTP/1.1 200 OK\r\nContent-"), role: .response, .unexpectedEndOfStream, atEnd: true)
    }

    @Test func errorsAreSticky() throws {
        var scanner = HTTP1MessageScanner(role: .request)
        #expect(throws: HTTPParseError.contentLengthWithTransferEncoding) {
            try scanner.next(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), atEnd: false)
        }
        #expect(throws: HTTPParseError.contentLengthWithTransferEncoding) {
            try scanner.next(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), atEnd: false)
        }
    }
}
