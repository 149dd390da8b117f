import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// `HTTPUpstream` and `HTTPTestConnection` against each other, no daemon in between: the test
/// peers of the HTTP route tests must be known good before they judge the proxy.
final class HTTPUpstreamTests: XCTestCase {
    func testKeepAliveBodiesAndAnswersByPath() throws {
        let upstream = try HTTPUpstream()
        let client = try HTTPTestConnection(to: upstream.endpoint)
        let small = SplitMix64.bytes(count: 1000, seed: 1)
        let large = SplitMix64.bytes(count: 3_000_000, seed: 2)

        let echoed = try client.exchange(HTTPTestRequest("POST", "/echo", body: small))
        XCTAssertEqual(echoed.status, 200)
        XCTAssertEqual(echoed.body, small)
        XCTAssertEqual(echoed.header("x-body-sha256"), SHA256.hex(small))

        let chunkedUp = try client.exchange(HTTPTestRequest("PUT", "/echo", body: large, chunked: [1, 7, 65536, 100_000]))
        XCTAssertEqual(chunkedUp.bodySHA256, SHA256.hex(large))
        XCTAssertFalse(chunkedUp.chunked, "/echo answers with Content-Length")

        let chunkedDown = try client.exchange(HTTPTestRequest("GET", "/chunked?size=200000&seed=9"))
        XCTAssertTrue(chunkedDown.chunked)
        XCTAssertEqual(chunkedDown.body, SplitMix64.bytes(count: 200_000, seed: 9))
        XCTAssertEqual(chunkedDown.header("x-body-sha256"), chunkedDown.bodySHA256)
        XCTAssertEqual(chunkedDown.trailers, [HTTPField("x-checksum", chunkedDown.bodySHA256)])

        let big = try client.exchange(HTTPTestRequest("GET", "/big?size=12345"))
        XCTAssertEqual(big.body, SplitMix64.bytes(count: 12345, seed: 12345))
        let head = try client.exchange(HTTPTestRequest("HEAD", "/big?size=12345"))
        XCTAssertEqual(head.header("content-length"), "12345")
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(try client.exchange(HTTPTestRequest("GET", "/status/204")).status, 204)
        let notModified = try client.exchange(HTTPTestRequest("GET", "/status/304"))
        XCTAssertEqual(notModified.status, 304)
        XCTAssertEqual(notModified.body, [])
        let teapot = try client.exchange(HTTPTestRequest("GET", "/status/418"))
        XCTAssertEqual(teapot.status, 418)
        XCTAssertEqual(teapot.text, "status 418\n")
        let (slow, seconds) = try timed { try client.exchange(HTTPTestRequest("GET", "/slow?ms=150")) }
        XCTAssertEqual(slow.text, "slow 150\n")
        XCTAssertGreaterThanOrEqual(seconds, 0.150)
        XCTAssertEqual(try client.exchange(HTTPTestRequest("DELETE", "/any/thing?x=1")).text, "DELETE /any/thing?x=1\n")
        let raw = try client.exchange(HTTPTestRequest("GET", "/raw"))
        XCTAssertEqual(raw.rawHead, Array("HTTP/1.1 200 Quite OK\r\nX-MiXeD-CaSe:   spaced   value \t\r\nx-dup: 1\r\nX-Dup:2\r\nX-Empty:\r\nContent-Length: 4\r\n\r\n".utf8))
        XCTAssertEqual(raw.headers("x-dup"), ["1", "2"])

        let seen = upstream.requests
        XCTAssertEqual(seen.count, 11)
        XCTAssertEqual(Set(seen.map(\.connection)), [0], "one keep-alive connection")
        XCTAssertEqual(seen.map(\.index), Array(0..<11))
        XCTAssertEqual(seen[0].bodySHA256, SHA256.hex(small))
        XCTAssertEqual(seen[1].bodySHA256, SHA256.hex(large))
        XCTAssertTrue(seen[1].chunked)
        XCTAssertGreaterThan(seen[1].chunkCount, 30)
        XCTAssertEqual(upstream.connectionsAccepted, 1)
        XCTAssertEqual(upstream.rejections.count, 0, "\(upstream.rejections)")
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let upstream = try HTTPUpstream()
        let client = try HTTPTestConnection(to: upstream.endpoint)
        let requests = (0..<8).map { HTTPTestRequest("POST", "/p/\($0)", body: Array("body \($0)".utf8)) }
        try client.send(raw: requests.flatMap(\.serialized))
        for index in 0..<8 {
            let answer = try client.readResponse(to: "POST")
            XCTAssertEqual(answer.text, "POST /p/\(index)\n")
            XCTAssertEqual(answer.header("x-upstream-req"), String(index))
        }
    }

    func testExpectContinueUpgradeConnectAndSideEffects() throws {
        let upstream = try HTTPUpstream()
        let client = try HTTPTestConnection(to: upstream.endpoint)
        let body = SplitMix64.bytes(count: 5000, seed: 3)
        let request = HTTPTestRequest("POST", "/echo", fields: [HTTPField("Expect", "100-continue")], body: body)
        try client.send(raw: request.head)
        let interim = try client.readResponse(to: "POST", timeout: .seconds(2), stopAtInterim: true)
        XCTAssertEqual(interim.status, 100)
        try client.send(raw: request.framedBody)
        let final = try client.readResponse(to: "POST")
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.body, body)

        XCTAssertEqual(try client.exchange(HTTPTestRequest("POST", "/pay", fields: [HTTPField("Idempotency-Key", "k1")])).text, "paid k1 #1\n")
        XCTAssertEqual(try client.exchange(HTTPTestRequest("POST", "/pay", fields: [HTTPField("Idempotency-Key", "k1")])).text, "paid k1 #2\n")
        XCTAssertEqual(upstream.sideEffects(key: "k1"), 2)
        XCTAssertEqual(upstream.sideEffects(key: "k2"), 0)

        let upgrade = try client.exchange(HTTPTestRequest("GET", "/ws", fields: [HTTPField("Upgrade", "websocket"), HTTPField("Connection", "Upgrade")]))
        XCTAssertEqual(upgrade.status, 101)
        XCTAssertEqual(upgrade.header("upgrade"), "websocket")
        let frames = SplitMix64.bytes(count: 300_000, seed: 4)
        try client.send(raw: frames)
        XCTAssertEqual(try client.readBytes(frames.count), frames)
        try client.socket.shutdownWrite()
        XCTAssertEqual(client.next(timeout: .seconds(2)), .eof)

        let tunnel = try HTTPTestConnection(to: upstream.endpoint)
        let connect = try tunnel.exchange(HTTPTestRequest("CONNECT", "example.test:443", fields: [HTTPField("Host", "example.test:443")]))
        XCTAssertEqual(connect.status, 200)
        try tunnel.send(raw: Array("tunnelled bytes".utf8))
        XCTAssertEqual(try tunnel.readBytes(15), Array("tunnelled bytes".utf8))
    }

    /// The upstream's own strictness: what the proxy must refuse is refused here too (and
    /// recorded), so a smuggled request that got past the proxy is seen.
    func testMalformedRequestsAreRefusedAndRecorded() throws {
        let upstream = try HTTPUpstream()
        let cases: [(String, String)] = [
            ("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Content-Length with Transfer-Encoding"),
            ("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "differing Content-Lengths"),
            ("GET /c HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n", "bare LF in head"),
            ("GET /d HTTP/1.1\nHost: x\n\n", "bare LF in head"),
            ("GET /e HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", "obs-fold"),
            ("GET /f HTTP/1.1\r\nHost : x\r\n\r\n", "whitespace before the colon"),
            ("GET /g HTTP/1.1\r\nX-A: 1\r\n\r\n", "missing Host"),
            ("POST /h HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "is not exactly chunked"),
            ("GET /i HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n", "head too large"),
        ]
        for (index, (request, rule)) in cases.enumerated() {
            let client = try HTTPTestConnection(to: upstream.endpoint)
            try client.send(raw: Array(request.utf8))
            let answer = try client.readResponse()
            XCTAssertEqual(answer.status, rule == "head too large" ? 431 : 400, "case \(index)")
            XCTAssertEqual(answer.header("connection"), "close")
            XCTAssertTrue(upstream.waitUntil { _ in upstream.rejections.count == index + 1 })
            let rejection = try XCTUnwrap(upstream.rejections.last)
            XCTAssertTrue(rejection.reason.contains(rule), "case \(index): \(rejection.reason) should name \(rule)")
        }
        XCTAssertEqual(upstream.requests.count, 0, "\(upstream.requests)")
    }

    func testHTTP10AndEOFDelimitedAnswers() throws {
        let upstream = try HTTPUpstream()
        let old = try HTTPTestConnection(to: upstream.endpoint)
        let answer = try old.exchange(HTTPTestRequest("GET", "/x", version: "HTTP/1.0"))
        XCTAssertEqual(answer.header("connection"), "close")
        XCTAssertEqual(old.next(timeout: .seconds(2)), .eof)

        let eof = try HTTPTestConnection(to: upstream.endpoint)
        let untilClose = try eof.exchange(HTTPTestRequest("GET", "/eof?size=70000"))
        XCTAssertNil(untilClose.header("content-length"))
        XCTAssertEqual(untilClose.body, SplitMix64.bytes(count: 70000, seed: 70000))
        upstream.stop()
        XCTAssertEqual(upstream.connectionsOpen, 0)
    }
}
