import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// `attempts` (SPEC §3.3 "Counting instead of chance"): exact "fail twice, then succeed" per
/// key, across connections and workers.
final class HTTPAttemptsTests: HTTPRouteTestCase {
    /// Issue acceptance: abort with `attempts: {key: header:idempotency-key, first: 2}` and two
    /// workers; 3 keys × 3 attempts, each attempt on a new connection (spread over both
    /// workers by SO_REUSEPORT's hashing of the source port), keys interleaved: exactly 503, 503,
    /// 200 per key; the upstream ran each key's payment once; injections count the 6 aborts.
    func testFailTwiceThenSucceedPerKeyAcrossConnectionsAndWorkers() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"flaky","type":"abort","route":"web","status":503,"body":"try again","attempts":{"key":"header:idempotency-key","first":2}}"#,
        ], workers: 2)
        let web = try daemon.route()
        let keys = ["key-a", "key-b", "key-c"]
        var statuses: [String: [Int]] = [:]
        for _ in 0..<3 {
            for key in keys {
                let client = try HTTPTestConnection(to: web)
                let answer = try client.exchange(HTTPTestRequest("POST", "/pay", fields: [HTTPField("Idempotency-Key", key)], body: Array("amount=5".utf8)))
                statuses[key, default: []].append(answer.status)
                client.close()
            }
        }
        for key in keys {
            XCTAssertEqual(statuses[key], [503, 503, 200], key)
            XCTAssertEqual(upstream.sideEffects(key: key), 1, "\(key) paid once")
        }
        // A request without the key is neither counted nor faulted.
        let keyless = try HTTPTestConnection(to: web)
        try expect(200, HTTPTestRequest("POST", "/pay", body: Array("amount=1".utf8)), on: keyless)

        XCTAssertEqual(upstream.count(path: "/pay"), 4)
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "web", "fault": "flaky", "type": "abort"], settlesAt: 6), 6)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "503"], settlesAt: 6), 6)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "200"], settlesAt: 4), 4)
        let conns = try daemon.journal("http.fault", atLeast: 6).compactMap { $0["conn"] as? Int }
        XCTAssertEqual(conns, [0, 1, 2, 3, 4, 5], "each aborted attempt came on its own connection")
    }
}
