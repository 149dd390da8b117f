import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// Strict request framing on an `http` route (SPEC §3.3, docs/HTTP.md "Strict framing"): what
/// could smuggle a request is refused by the proxy, never reaches the upstream, is journaled,
/// and touches no other connection.
final class HTTPFramingTests: HTTPRouteTestCase {
    /// Each payload would smuggle `GET /smuggled` past a lenient proxy; the upstream's strict
    /// parser would record it (`rejections`) if any byte of it arrived.
    private static let smuggling: [(name: String, bytes: String)] = [
        ("CL+TE", "POST /smuggle-clte HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("differing Content-Lengths", "POST /smuggle-cl HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("bare LF in one field line", "POST /smuggle-lf HTTP/1.1\r\nHost: x\r\nX-A: 1\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("bare LF head", "GET /smuggle-lf2 HTTP/1.1\nHost: x\n\n"),
    ]

    /// Issue acceptance: CL+TE, differing Content-Lengths and bare LFs get 400 from the proxy and
    /// a close; the upstream sees nothing of them (no request, no rejection, no connection);
    /// a keep-alive connection open through the same route keeps working throughout; each is
    /// journaled as `http.rejected` with a reason and counted under code 400.
    func testSmugglingAttemptsAreRefusedWithoutTouchingAnotherConnection() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let web = try daemon.route()
        let bystander = try HTTPTestConnection(to: web)
        try expect(200, HTTPTestRequest("GET", "/before"), on: bystander)

        for (index, attempt) in Self.smuggling.enumerated() {
            let attacker = try HTTPTestConnection(to: web)
            try attacker.send(raw: Array(attempt.bytes.utf8))
            let answer = try attacker.readResponse(to: "POST", timeout: .seconds(5))
            XCTAssertEqual(answer.status, 400, "\(attempt.name): \(answer)")
            XCTAssertEqual(attacker.next(timeout: .seconds(3)), .eof, "\(attempt.name): the proxy closes after refusing")
            let during = try expect(200, HTTPTestRequest("POST", "/echo", body: SplitMix64.bytes(count: 30_000, seed: UInt64(index))), on: bystander)
            XCTAssertEqual(during.bodySHA256, SHA256.hex(SplitMix64.bytes(count: 30_000, seed: UInt64(index))), "the bystander's bytes")
        }
        try expect(200, HTTPTestRequest("GET", "/after"), on: bystander)

        XCTAssertEqual(upstream.rejections.count, 0, "a malformed request reached the upstream: \(upstream.rejections)")
        XCTAssertEqual(upstream.requests.map(\.path), ["/before"] + Array(repeating: "/echo", count: Self.smuggling.count) + ["/after"])
        XCTAssertEqual(upstream.connectionsAccepted, 1, "a refused request dials nothing")

        let rejected = try daemon.journal("http.rejected", atLeast: Self.smuggling.count)
        XCTAssertEqual(rejected.count, Self.smuggling.count)
        for (event, attempt) in zip(rejected, Self.smuggling) {
            XCTAssertEqual(event["route"] as? String, "web", attempt.name)
            XCTAssertEqual(event["side"] as? String, "client", attempt.name)
            XCTAssertEqual(event["status"] as? Int, 400, attempt.name)
            XCTAssertFalse((event["reason"] as? String ?? "").isEmpty, "\(attempt.name): no reason in \(event)")
        }
        let count = Double(Self.smuggling.count)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "400"], settlesAt: count), count)
    }

    /// Issue acceptance: a head over 16 KiB gets 431 from the proxy (the upstream, whose own
    /// limit is 64 KiB, never sees it), journaled with its reason.
    func testOversizeHeadGets431() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let big = HTTPTestRequest("GET", "/big-head", fields: [HTTPField("X-Filler", String(repeating: "f", count: 17 * 1024))])
        try client.send(big)
        let answer = try client.readResponse(timeout: .seconds(5))
        XCTAssertEqual(answer.status, 431, "\(answer)")
        XCTAssertEqual(client.next(timeout: .seconds(3)), .eof)
        // Just under the limit passes.
        let fits = try HTTPTestConnection(to: try daemon.route())
        try expect(200, HTTPTestRequest("GET", "/fits", fields: [HTTPField("X-Filler", String(repeating: "f", count: 15 * 1024))]), on: fits)

        XCTAssertEqual(upstream.requests.map(\.path), ["/fits"])
        XCTAssertEqual(upstream.rejections.count, 0, "\(upstream.rejections)")
        let rejected = try daemon.journal("http.rejected", atLeast: 1)
        XCTAssertEqual(rejected.count, 1)
        XCTAssertEqual(rejected.first?["status"] as? Int, 431)
        XCTAssertFalse((rejected.first?["reason"] as? String ?? "").isEmpty)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "431"], settlesAt: 1), 1)
    }
}
