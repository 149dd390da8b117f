import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// HTTP faults on an `http` route through the real daemon (SPEC §3.3, docs/HTTP.md "HTTP
/// faults"): what the client gets, what the upstream saw, and the journal and metrics of it.
final class HTTPFaultTests: HTTPRouteTestCase {
    private static let abortNope = #"{"id":"nope","type":"abort","route":"web","status":503,"body":"nope","headers":{"retry-after":"1"},"mark":true}"#

    /// Issue acceptance: an abort is answered by the proxy (status, body, headers and the mark),
    /// the upstream is never dialled, a request body is drained so the connection stays usable,
    /// HEAD gets the head only; once cleared, the same connection reaches the upstream.
    func testAbortIsAnsweredByTheProxyAndNeverReachesTheUpstream() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [Self.abortNope])
        let client = try HTTPTestConnection(to: try daemon.route())
        var requests = (0..<3).map { HTTPTestRequest("GET", "/a/\($0)") }
        requests.append(HTTPTestRequest("POST", "/pay", fields: [HTTPField("Idempotency-Key", "k")], body: SplitMix64.bytes(count: 100_000, seed: 1)))
        requests.append(HTTPTestRequest("PUT", "/up", body: SplitMix64.bytes(count: 20_000, seed: 2), chunked: [999]))
        for request in requests {
            let answer = try expect(503, request, on: client)
            XCTAssertEqual(answer.text, "nope")
            XCTAssertEqual(answer.header("content-length"), "4")
            XCTAssertEqual(answer.header("retry-after"), "1")
            XCTAssertEqual(answer.header("x-faultline-fault"), "nope")
        }
        let head = try expect(503, HTTPTestRequest("HEAD", "/h"), on: client)
        XCTAssertEqual(head.body, [], "a local reply to HEAD has no body")
        XCTAssertEqual(head.header("x-faultline-fault"), "nope")
        XCTAssertEqual(upstream.requests.count, 0, "\(upstream.requests)")
        XCTAssertEqual(upstream.connectionsAccepted, 0, "an aborted request dials nothing")
        XCTAssertEqual(upstream.sideEffects(key: "k"), 0)

        let events = try daemon.journal("http.fault", atLeast: 6)
        XCTAssertEqual(events.count, 6)
        XCTAssertEqual(events.map { $0["action"] as? String }, Array(repeating: "abort", count: 6))
        XCTAssertEqual(events.map { $0["req"] as? Int }, Array(0..<6))
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "web", "fault": "nope", "type": "abort"], settlesAt: 6), 6)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "503"], settlesAt: 6), 6)

        try daemon.clear("nope")
        let after = try expect(200, HTTPTestRequest("GET", "/after"), on: client)
        XCTAssertEqual(after.text, "GET /after\n")
        XCTAssertNil(after.header("x-faultline-fault"))
        XCTAssertEqual(upstream.requests.map(\.target), ["/after"])
        XCTAssertEqual(upstream.connectionsAccepted, 1)
    }

    /// Issue acceptance: `delay` 200ms in each phase adds [200, 250] ms to a request's round trip
    /// against unfaulted ones on the same connection. Tolerances: the total of a delayed request
    /// is never under 200 ms (a delay never acts early); its excess over the median unfaulted
    /// round trip is at least 199 ms (1 ms for that median's own jitter) and, as a median of
    /// three, at most 250 ms. A request pipelined behind a delayed one waits behind it.
    func testDelayRequestAndResponsePhasesAdd200Milliseconds() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"lag-req","type":"delay","route":"web","delay":"200ms","phase":"request","match":{"path":"/delay-req"}}"#,
            #"{"id":"lag-resp","type":"delay","route":"web","delay":"200ms","phase":"response","match":{"path":"/delay-resp"}}"#,
        ])
        let client = try HTTPTestConnection(to: try daemon.route())
        func roundTrip(_ target: String) throws -> Double {
            let (answer, seconds) = try timed { try client.exchange(HTTPTestRequest("GET", target)) }
            XCTAssertEqual(answer.text, "GET \(target)\n")
            return seconds * 1000
        }
        for _ in 0..<3 { _ = try roundTrip("/warm") }
        let baseline = try (0..<7).map { _ in try roundTrip("/plain") }.sorted()[3]
        XCTAssertLessThan(baseline, 50, "unfaulted round trip, ms")
        for target in ["/delay-req", "/delay-resp"] {
            let totals = try (0..<3).map { _ in try roundTrip(target) }
            let added = totals.map { $0 - baseline }
            for (total, extra) in zip(totals, added) {
                XCTAssertGreaterThanOrEqual(total, 200, "\(target): answered before the delay")
                XCTAssertGreaterThanOrEqual(extra, 199, "\(target): added \(extra) ms")
            }
            XCTAssertLessThanOrEqual(added.sorted()[1], 250, "\(target): added ms \(added)")
            print("[http] delay 200ms \(target): added ms \(added.map { Int($0) }) over a baseline of \(String(format: "%.2f", baseline)) ms")
        }

        let start = Deadline.now()
        try client.send(raw: HTTPTestRequest("GET", "/delay-req").serialized + HTTPTestRequest("GET", "/behind").serialized)
        XCTAssertEqual(try client.readResponse().text, "GET /delay-req\n")
        XCTAssertEqual(try client.readResponse().text, "GET /behind\n")
        XCTAssertGreaterThanOrEqual(millisecondsSince(start), 200, "the pipelined request overtook the delayed one")

        let actions = try daemon.journal("http.fault", atLeast: 7).map { "\($0["fault"] ?? "-") \($0["action"] ?? "-")" }
        XCTAssertEqual(actions, Array(repeating: "lag-req delay_request", count: 3) + Array(repeating: "lag-resp delay_response", count: 3) + ["lag-req delay_request"])
        XCTAssertEqual(upstream.count(path: "/behind"), 1)
    }

    /// Issue acceptance: `drop_response` — the upstream handled the request (its side effect
    /// happened exactly once) and the client gets, per `then`: an RST, a clean FIN with no byte,
    /// or nothing at all for a second. Metrics count them as `reset`, `closed`, `hang`.
    func testDropResponseThenResetCloseOrHang() throws {
        let upstream = try HTTPUpstream()
        let thens = ["reset", "close", "hang"]
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: thens.map {
            #"{"id":"drop-\#($0)","type":"drop_response","route":"web","then":"\#($0)","match":{"path":"/pay","headers":{"x-then":"\#($0)"}}}"#
        })
        let web = try daemon.route()
        for then in thens {
            let client = try HTTPTestConnection(to: web)
            try client.send(HTTPTestRequest("POST", "/pay", fields: [HTTPField("Idempotency-Key", "k-\(then)"), HTTPField("X-Then", then)],
                                            body: Array("amount=10".utf8)))
            switch then {
            case "reset": XCTAssertEqual(client.next(timeout: .seconds(3)), .reset, "then=reset")
            case "close": XCTAssertEqual(client.next(timeout: .seconds(3)), .eof, "then=close: a FIN before any byte")
            default: XCTAssertEqual(client.next(timeout: .seconds(1)), .timedOut, "then=hang: no byte, no close for 1 s")
            }
            XCTAssertTrue(upstream.waitUntil { _ in upstream.sideEffects(key: "k-\(then)") >= 1 })
            client.close()
        }
        usleep(300_000)
        for then in thens {
            XCTAssertEqual(upstream.sideEffects(key: "k-\(then)"), 1, "then=\(then): the side effect happened once")
            XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "web", "fault": "drop-\(then)", "type": "drop_response"], settlesAt: 1), 1)
        }
        XCTAssertEqual(upstream.count(path: "/pay"), 3)
        for code in ["reset", "closed", "hang"] {
            XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": code], settlesAt: 1, timeout: .seconds(3)), 1, "code \(code)")
        }
        let actions = try daemon.journal("http.fault", atLeast: 3).compactMap { $0["action"] as? String }
        XCTAssertEqual(actions, ["drop_response_reset", "drop_response_close", "drop_response_hang"])
    }

    /// Issue acceptance: `duplicate` copies=2 — the upstream sees the request 3 times (same
    /// body), the client one answer (the first), and the next request on the same connection
    /// gets its own answer, with no stray bytes after it.
    func testDuplicateReachesTheUpstreamThriceAndTheNextRequestGetsItsOwnAnswer() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"dup","type":"duplicate","route":"web","copies":2,"match":{"path":"/pay"}}"#,
        ])
        let client = try HTTPTestConnection(to: try daemon.route())
        XCTAssertEqual(try expect(200, HTTPTestRequest("GET", "/before"), on: client).text, "GET /before\n")
        let body = SplitMix64.bytes(count: 50_000, seed: 3)
        let paid = try expect(200, HTTPTestRequest("POST", "/pay", fields: [HTTPField("Idempotency-Key", "dup-1")], body: body), on: client)
        XCTAssertEqual(paid.text, "paid dup-1 #1\n", "the client gets the first answer")
        XCTAssertEqual(paid.header("x-upstream-req"), "1")
        let after = try expect(200, HTTPTestRequest("GET", "/after"), on: client)
        XCTAssertEqual(after.text, "GET /after\n")
        XCTAssertEqual(after.header("x-upstream-req"), "4", "the copies were answered before /after was forwarded")
        XCTAssertEqual(client.next(timeout: .milliseconds(300)), .timedOut, "a copy's answer leaked to the client")

        XCTAssertEqual(upstream.requests.map(\.target), ["/before", "/pay", "/pay", "/pay", "/after"])
        XCTAssertEqual(Set(upstream.requests(path: "/pay").map(\.bodySHA256)), [SHA256.hex(body)])
        XCTAssertEqual(upstream.sideEffects(key: "dup-1"), 3)
        XCTAssertEqual(Set(upstream.requests.map(\.connection)), [0])
        XCTAssertEqual(try daemon.journal("http.fault", atLeast: 1).map { $0["action"] as? String }, ["duplicate"])
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "web", "fault": "dup", "type": "duplicate"], settlesAt: 1), 1)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "200"], settlesAt: 3), 3)
    }

    /// Issue acceptance: the `http.fault` line of a request a fault acted on has every field —
    /// route, conn, req (index on the connection), method, path, fault, type, action — and the
    /// request's `traceparent`; a request without one gets no `traceparent` field.
    func testHTTPFaultJournalLineCarriesTheTraceparent() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"traced","type":"abort","route":"web","status":503,"match":{"path":"/traced"}}"#,
        ])
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let first = try HTTPTestConnection(to: try daemon.route())
        try expect(200, HTTPTestRequest("GET", "/plain"), on: first)
        try expect(503, HTTPTestRequest("POST", "/traced", fields: [HTTPField("traceparent", traceparent)], body: Array("x".utf8)), on: first)
        let second = try HTTPTestConnection(to: try daemon.route())
        try expect(503, HTTPTestRequest("GET", "/traced"), on: second)

        let events = try daemon.journal("http.fault", atLeast: 2)
        XCTAssertEqual(events.count, 2)
        guard events.count == 2 else { return }
        let traced = events[0]
        XCTAssertEqual(traced["route"] as? String, "web")
        XCTAssertEqual(traced["conn"] as? Int, 0)
        XCTAssertEqual(traced["req"] as? Int, 1)
        XCTAssertEqual(traced["method"] as? String, "POST")
        XCTAssertEqual(traced["path"] as? String, "/traced")
        XCTAssertEqual(traced["fault"] as? String, "traced")
        XCTAssertEqual(traced["type"] as? String, "abort")
        XCTAssertEqual(traced["action"] as? String, "abort")
        XCTAssertEqual(traced["traceparent"] as? String, traceparent)
        XCTAssertEqual(events[1]["conn"] as? Int, 1)
        XCTAssertEqual(events[1]["req"] as? Int, 0)
        XCTAssertEqual(events[1]["method"] as? String, "GET")
        XCTAssertNil(events[1]["traceparent"], "no traceparent field for a request without one: \(events[1])")
    }

    /// Issue acceptance: the request counters equal what the clients saw, by code; the duration
    /// histogram counts every completed request; injections count the requests a fault acted on.
    func testMetricsCountWhatTheClientsSaw() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"fail","type":"abort","route":"web","status":503,"match":{"path_prefix":"/fail/"}}"#,
        ])
        var seen: [Int: Int] = [:]
        for conn in 0..<2 {
            let client = try HTTPTestConnection(to: try daemon.route())
            for index in 0..<6 {
                let target = index % 3 == 2 ? "/fail/\(conn)-\(index)" : (index == 4 ? "/status/404" : "/ok/\(index)")
                seen[try client.exchange(HTTPTestRequest("GET", target)).status, default: 0] += 1
            }
        }
        XCTAssertEqual(seen, [200: 6, 503: 4, 404: 2])
        for (code, count) in seen {
            XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": String(code)], settlesAt: Double(count)), Double(count), "code \(code)")
        }
        XCTAssertEqual(try daemon.metric("faultline_http_request_duration_seconds_count", ["route": "web"], settlesAt: 12), 12)
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "web", "fault": "fail", "type": "abort"], settlesAt: 4), 4)
        XCTAssertEqual(try daemon.journal("http.fault", atLeast: 4).count, 4)
        XCTAssertEqual(upstream.requests.count, 8)
    }
}
