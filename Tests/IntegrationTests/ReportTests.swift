import FaultlineClient
import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// The request log and the client-behaviour report (SPEC §3.4) through the real daemon, with
/// real clients: urllib3's `Retry`, a naive immediate-retry loop, a fixed-sleep loop started by
/// 20 clients at once, a client with a simple circuit breaker, and a tcp client reconnecting in
/// a tight loop to a refusing route. Each gets the verdict it deserves.
final class ReportTests: HTTPRouteTestCase {
    private func client(_ daemon: HTTPDaemon) -> FaultlineClient {
        FaultlineClient(socket: daemon.socketPath, timeout: .seconds(20))
    }

    /// Waits until the route's log holds `count` entries (the last is logged a moment after the
    /// client read its answer).
    private func waitForLog(_ daemon: HTTPDaemon, route: String = "web", count: Int) throws -> [RequestRecord] {
        let deadline = Deadline(after: .seconds(5))
        while true {
            let records = try client(daemon).requests(route: route)
            if records.count >= count || deadline.hasPassed { return records }
            usleep(20_000)
        }
    }

    /// Every request is logged with what the client got, its keys and the fault; `since` pages;
    /// a full log drops the oldest and counts them.
    func testRequestLogEntriesSinceAndDrops() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(
            routes: [("web", upstream.endpoint)],
            faults: [#"{"id":"flaky","route":"web","type":"abort","status":503,"match":{"path":"/pay"},"attempts":{"key":"header:idempotency-key","first":1}}"#],
            requestLog: 6)
        let web = try daemon.route()
        let connection = try HTTPTestConnection(to: web)
        let pay = HTTPTestRequest(
            "POST", "/pay?x=1",
            fields: [HTTPField("Idempotency-Key", "k-1"), HTTPField("X-Request-Id", "r-9"), HTTPField("traceparent", "00-abc-def-01")],
            body: Array("{}".utf8))
        try expect(503, pay, on: connection)
        try expect(200, pay, on: connection)
        try expect(200, HTTPTestRequest("GET", "/a"), on: connection)

        let records = try waitForLog(daemon, count: 3)
        XCTAssertEqual(records.map(\.seq), [1, 2, 3])
        XCTAssertEqual(records.map(\.outcome), [.status(503), .status(200), .status(200)])
        XCTAssertEqual(records.map(\.fault), ["flaky", nil, nil])
        XCTAssertEqual(records.map(\.request), [0, 1, 2])
        XCTAssertEqual(Set(records.map(\.conn)).count, 1)
        XCTAssertEqual(records[0].http?.method, "POST")
        XCTAssertEqual(records[0].http?.path, "/pay")
        XCTAssertEqual(records[0].http?.keys, RequestKeys(idempotencyKey: "k-1", requestID: "r-9", traceparent: "00-abc-def-01"))
        XCTAssertNil(records[2].http?.keys.idempotencyKey)
        XCTAssertNil(records[0].upstreamNanoseconds, "an aborted request has no upstream leg")
        XCTAssertNotNil(records[1].upstreamNanoseconds)
        XCTAssertEqual(records[0].source.host, "127.0.0.1")
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        XCTAssertLessThan(abs(records[0].timestamp - now), 60_000_000_000, "ts is wall-clock time")
        XCTAssertLessThanOrEqual(records[0].timestamp, records[1].timestamp)

        // JSON lines with the contract's field names.
        let raw = try daemon.control.expect(200, "GET", "/v1/requests?route=web&since=1").text
        let lines = raw.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        for field in ["seq", "ts", "route", "conn", "req", "method", "path", "keys", "status", "fault", "upstream_us", "total_us"] {
            XCTAssertNotNil(first[field], "missing \(field) in \(lines[0])")
        }
        XCTAssertEqual(first["seq"] as? Int, 2)
        XCTAssertEqual(first["status"] as? Int, 200)

        // Six kept: three more requests fill the log, two beyond it drop the oldest two.
        for _ in 0..<5 { try expect(200, HTTPTestRequest("GET", "/b"), on: connection) }
        let full = try waitForLog(daemon, count: 6)
        let settled = try daemon.metric("faultline_request_log_dropped_total", ["route": "web"], settlesAt: 2)
        XCTAssertEqual(try client(daemon).requests(route: "web").map(\.seq), [3, 4, 5, 6, 7, 8], "\(full.map(\.seq))")
        XCTAssertEqual(settled, 2)

        // Bad queries change nothing and say what is wrong.
        XCTAssertEqual(try daemon.control.request("GET", "/v1/requests").status, 400)
        XCTAssertEqual(try daemon.control.request("GET", "/v1/requests?route=nope").status, 404)
        XCTAssertEqual(try daemon.control.request("GET", "/v1/requests?route=web&since=x").status, 400)
        XCTAssertEqual(try daemon.control.request("GET", "/v1/report?route=web&group_by=color").status, 422)
    }

    /// urllib3's `Retry(backoff_factor=0.05)` (Debian's 1.26: no sleep before the first retry,
    /// then 0.1 s, 0.2 s, 0.4 s) against a 503 for the first four attempts of each request:
    /// exponential backoff with factor ≈ 2.
    func testUrllib3RetryBackoffIsExponential() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(
            routes: [("web", upstream.endpoint)],
            faults: [#"{"id":"flaky","route":"web","type":"abort","status":503,"attempts":{"key":"header:x-request-id","first":4}}"#])
        let web = try daemon.route()
        let script = #"""
        import sys, requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry
        session = requests.Session()
        retry = Retry(total=6, backoff_factor=0.05, status_forcelist=[503], respect_retry_after_header=False)
        session.mount("http://", HTTPAdapter(max_retries=retry))
        for key in ["order-1", "order-2", "order-3"]:
            r = session.get("http://%s/orders" % sys.argv[1], headers={"X-Request-Id": key}, timeout=10)
            print(key, r.status_code)
        """#
        let run = try runPython(script, ["\(web)"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output, "order-1 200\norder-2 200\norder-3 200\n")
        _ = try waitForLog(daemon, count: 15)

        let report = try client(daemon).report(route: "web")
        XCTAssertEqual(report.requests, 15)
        XCTAssertEqual(report.injected, 12)
        XCTAssertEqual(report.groups, 3)
        XCTAssertEqual(report.retries.groupsRetried, 3)
        XCTAssertEqual(report.retries.maxAttempts, 5)
        XCTAssertEqual(report.retries.gaveUp, 0)
        XCTAssertEqual(report.backoff.shape, .exponential, "\(report)")
        let factor = try XCTUnwrap(report.backoff.factor)
        XCTAssertGreaterThan(factor, 1.6)
        XCTAssertLessThan(factor, 2.5)
        XCTAssertEqual(report.timelines.map(\.key).sorted(), ["order-1", "order-2", "order-3"])
        XCTAssertEqual(report.timelines[0].attempts.map(\.outcome), [.status(503), .status(503), .status(503), .status(503), .status(200)])

        // faultctl against the same daemon: the tables, and the page.
        let tables = try FaultctlRun(["--socket", daemon.socketPath, "report", "--route", "web"])
        XCTAssertEqual(tables.status, 0, tables.stderr)
        XCTAssertTrue(tables.stdout.contains("exponential"), tables.stdout)
        XCTAssertTrue(tables.stdout.contains("order-2"), tables.stdout)
        let page = daemon.process.directory + "/report.html"
        let html = try FaultctlRun(["--socket", daemon.socketPath, "report", "--route", "web", "--html", page])
        XCTAssertEqual(html.status, 0, html.stderr)
        let text = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "data-group=").count - 1, 3)
        XCTAssertFalse(text.contains("<script"), "the page is self-contained and script-free")
    }

    /// A loop that retries at once, for a second, against a service that always fails: no
    /// backoff, and it kept calling.
    func testNaiveImmediateRetryLoop() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(
            routes: [("web", upstream.endpoint)],
            faults: [#"{"id":"down","route":"web","type":"abort","status":503}"#])
        let web = try daemon.route()
        let script = #"""
        import http.client, sys, time
        host, port = sys.argv[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        attempts = 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            conn.request("GET", "/items", headers={"X-Request-Id": "op-1"})
            r = conn.getresponse(); r.read(); attempts += 1
            if r.status == 200: break
        print(attempts)
        """#
        let run = try runPython(script, ["\(web)"])
        XCTAssertEqual(run.status, 0, run.output)
        let attempts = try XCTUnwrap(Int(run.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertGreaterThan(attempts, 20)
        _ = try waitForLog(daemon, count: attempts)

        let report = try client(daemon).report(route: "web")
        XCTAssertEqual(report.requests, attempts)
        XCTAssertEqual(report.groups, 1)
        XCTAssertEqual(report.backoff.shape, Shape.none, "\(report.backoff)")
        XCTAssertEqual(report.retries.gaveUp, 1)
        XCTAssertEqual(report.breaker.verdict, .keptCalling, "\(report.breaker)")
        XCTAssertGreaterThan(report.breaker.callsWhileFailingPerSecond ?? 0, 20)
    }

    /// Twenty clients start at once, each sleeping a fixed 200 ms after a 503: fixed backoff, no
    /// jitter, and their retries land together (a thundering herd).
    func testFixedSleepByTwentyClientsIsAnAlignedHerd() throws {
        // "No jitter" is read from how closely the twenty retries land; under TSan the daemon
        // answers the twenty at once slowly enough to spread them (spread 0.137: jitter present).
        if let reason = Sanitizer.wallClockSkipReason("twenty retries must land within the no-jitter spread") { throw XCTSkip(reason) }
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(
            routes: [("web", upstream.endpoint)],
            faults: [#"{"id":"flaky","route":"web","type":"abort","status":503,"attempts":{"key":"header:x-request-id","first":2}}"#])
        let web = try daemon.route()
        let script = #"""
        import http.client, sys, threading, time
        host, port = sys.argv[1].rsplit(":", 1)
        barrier = threading.Barrier(20)
        results = [None] * 20
        def client(i):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.connect()
            barrier.wait()
            for attempt in range(5):
                conn.request("GET", "/stock", headers={"X-Request-Id": "c-%d" % i})
                r = conn.getresponse(); r.read()
                if r.status == 200:
                    results[i] = attempt + 1
                    return
                time.sleep(0.2)
        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(",".join(str(r) for r in results))
        """#
        let run = try runPython(script, ["\(web)"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output, Array(repeating: "3", count: 20).joined(separator: ",") + "\n")
        _ = try waitForLog(daemon, count: 60)

        let report = try client(daemon).report(route: "web")
        XCTAssertEqual(report.groups, 20)
        XCTAssertEqual(report.retries.groupsRetried, 20)
        XCTAssertEqual(report.retries.maxAttempts, 3)
        XCTAssertEqual(report.backoff.shape, .fixed, "\(report.backoff)")
        XCTAssertEqual(report.jitter.present, false, "\(report.jitter)")
        XCTAssertTrue(report.herd.aligned, "\(report.herd)")
        XCTAssertGreaterThanOrEqual(report.herd.maxConcurrentRetries, 10, "\(report.herd)")
    }

    /// A client with a simple breaker (open for 600 ms after three failures in a row, then one
    /// probe) calling every 10 ms while the service fails for 2 s: the report sees it open.
    func testClientWithBreakerIsSeenOpening() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(routes: [("web", upstream.endpoint)])
        let web = try daemon.route()
        let faultID = try daemon.apply(#"{"id":"outage","route":"web","type":"abort","status":503}"#)
        let clearer = Thread { [control = daemon.control] in
            usleep(2_000_000)
            _ = try? control.request("DELETE", "/v1/faults/\(faultID)")
        }
        clearer.start()
        let script = #"""
        import http.client, sys, time
        host, port = sys.argv[1].rsplit(":", 1)
        failures, open_until, calls, short_circuited = 0, 0.0, 0, 0
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            now = time.monotonic()
            if now < open_until:
                short_circuited += 1
                time.sleep(0.01)
                continue
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
            conn.request("GET", "/inventory")
            r = conn.getresponse(); r.read(); conn.close(); calls += 1
            if r.status >= 500:
                failures += 1
                if failures >= 3:
                    open_until = time.monotonic() + 0.6
            else:
                failures = 0
            time.sleep(0.01)
        print(calls, short_circuited)
        """#
        let run = try runPython(script, ["\(web)"])
        XCTAssertEqual(run.status, 0, run.output)
        let calls = try XCTUnwrap(Int(run.output.split(separator: " ").first ?? ""))
        _ = try waitForLog(daemon, count: calls)

        let report = try client(daemon).report(route: "web")
        XCTAssertEqual(report.breaker.verdict, .opened, "\(report.breaker)")
        XCTAssertGreaterThan(report.breaker.longestPauseMilliseconds, 450)
        // The breaker holds 0.6 s; a loaded machine (2 shared cores) stretched one pause to 1.7 s.
        XCTAssertLessThan(report.breaker.longestPauseMilliseconds, 3000)
    }

    /// tcp: a client reconnecting in a tight loop to a route that refuses: every attempt is
    /// logged as refused, and the report says there was no backoff.
    func testTCPReconnectLoopToRefusingRouteHasNoBackoff() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(
            routes: [("db", upstream.endpoint)],
            faults: [#"{"id":"no-db","route":"db","type":"refuse"}"#],
            tcpRoutes: ["db"])
        let db = try daemon.route("db")
        let script = #"""
        import socket, sys
        host, port = sys.argv[1].rsplit(":", 1)
        refused = 0
        for _ in range(40):
            try:
                # The reset can come before connect() returns on loopback.
                s = socket.create_connection((host, int(port)), timeout=5)
                data = s.recv(16)
                s.close()
                if data == b"": refused += 1
            except ConnectionResetError:
                refused += 1
        print(refused)
        """#
        let run = try runPython(script, ["\(db)"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output, "40\n")
        let records = try waitForLog(daemon, route: "db", count: 40)
        XCTAssertEqual(records.count, 40)
        XCTAssertEqual(Set(records.map(\.outcome)), [.refused])
        XCTAssertEqual(Set(records.map(\.fault)), ["no-db"])
        XCTAssertTrue(records.allSatisfy { $0.http == nil })
        let line = try daemon.control.expect(200, "GET", "/v1/requests?route=db&since=39").text
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["outcome"] as? String, "refused")
        XCTAssertNotNil(object["duration_us"])
        XCTAssertEqual((object["source"] as? String)?.hasPrefix("127.0.0.1:"), true)

        let report = try client(daemon).report(route: "db")
        XCTAssertEqual(report.groups, 1)
        XCTAssertEqual(report.backoff.shape, Shape.none, "\(report.backoff)")
    }
}

private typealias Shape = ClientReport.BackoffShape
