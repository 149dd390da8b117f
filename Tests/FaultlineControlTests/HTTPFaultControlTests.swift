import FaultlineConfig
import FaultlineControl
import FaultlineCore
import Testing

/// HTTP faults and http routes through the control API: accepted, refused with paths, and the
/// protocol checks (an HTTP fault never names a tcp route).
@Suite struct HTTPFaultControlTests {
    typealias Harness = ControlServiceTests.Harness

    /// The base harness (tcp routes `a` and `b`) plus an http route `h`.
    static func harnessWithHTTPRoute() throws -> Harness {
        let harness = try Harness()
        let added = harness.call("POST", "/v1/routes", #"{"name": "h", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9100", "protocol": "http"}"#)
        #expect(added.status == 201)
        return harness
    }

    static func errors(_ response: ControlResponse) -> [String] {
        (response.json.objectValue?["errors"]?.arrayValue ?? []).map { error in
            let object = error.objectValue
            return "\(object?["path"]?.stringValue ?? "?"): \(object?["message"]?.stringValue ?? "?")"
        }
    }

    @Test func anAbortFaultIsAcceptedAndShownAsTheConfigWritesIt() throws {
        let harness = try Self.harnessWithHTTPRoute()
        let response = harness.call("POST", "/v1/faults", #"""
            {"id": "flaky-pay", "type": "abort", "route": "h", "status": 503, "body": "try again",
             "headers": {"Retry-After": "1"},
             "match": {"method": ["POST", "PUT"], "path": "/pay", "headers": {"X-Tenant": "a", "idempotency-key": "*"}},
             "attempts": {"key": "header:idempotency-key", "first": 2}, "mark": true, "probability": 0.5}
            """#)
        #expect(response.status == 201)
        let stored = #"{"id":"flaky-pay","type":"abort","route":"h","probability":0.5,"status":503,"body":"try again","headers":{"Retry-After":"1"},"match":{"method":["POST","PUT"],"path":"/pay","headers":{"x-tenant":"a","idempotency-key":"*"}},"attempts":{"key":"header:idempotency-key","first":2},"mark":true}"#
        #expect(response.bodyText == stored + "\n")
        #expect(harness.call("GET", "/v1/faults/flaky-pay").bodyText == stored + "\n")
        let fault = try #require(harness.plane.lastPlan?.route(named: "h")?.faults.first)
        #expect(fault.kind == .abort(HTTPAbort(status: 503, body: "try again", headers: [HTTPHeaderPair("Retry-After", "1")])))
        #expect(fault.http == HTTPFaultRule(
            match: HTTPMatch(methods: ["POST", "PUT"], path: "/pay", headers: [
                HTTPHeaderMatch(name: "x-tenant", value: "a"), HTTPHeaderMatch(name: "idempotency-key", value: nil),
            ]),
            attempts: Attempts(key: .header("idempotency-key"), first: 2), mark: true))
        #expect(harness.journal.entries(after: 0).entries.last?.line.contains(#""event":"fault.applied","fault":{"id":"flaky-pay","type":"abort""#) == true)
    }

    @Test func everyHTTPTypeIsAcceptedWithDefaults() throws {
        let harness = try Self.harnessWithHTTPRoute()
        let expected = [
            (#"{"type": "delay", "route": "h", "delay": "200ms"}"#,
             #"{"id":"delay-1","type":"delay","route":"h","probability":1.0,"delay":"200ms","jitter":"0s","phase":"request","mark":false}"#),
            (#"{"type": "drop_response", "route": "h"}"#,
             #"{"id":"drop_response-1","type":"drop_response","route":"h","probability":1.0,"then":"reset","mark":false}"#),
            (#"{"type": "duplicate"}"#,
             #"{"id":"duplicate-1","type":"duplicate","route":"*","probability":1.0,"copies":1,"spacing":"0s","mark":false}"#),
        ]
        for (body, stored) in expected {
            let response = harness.call("POST", "/v1/faults", body)
            #expect(response.status == 201)
            #expect(response.bodyText == stored + "\n")
        }
    }

    @Test(arguments: [
        (#"{"type": "abort", "route": "h", "status": 503, "match": {"method": []}}"#,
         ["match.method: must name at least one method"]),
        (#"{"type": "abort", "route": "h", "status": 503, "match": {"method": ["GET", "BAD METHOD"]}}"#,
         [#"match.method[1]: "BAD METHOD" is not an HTTP method"#]),
        (#"{"type": "abort", "route": "h", "status": 503, "match": {"path": "pay", "path_prefix": "/pay?x=1"}}"#,
         [#"match.path: must start with "/", got "pay""#,
          #"match.path_prefix: must not contain "?" (the query is not part of the path), got "/pay?x=1""#]),
        (#"{"type": "abort", "route": "h", "status": 503, "match": {"headers": {"x-tenant": 1}}}"#,
         ["match.headers.x-tenant: expected a string, got integer"]),
        (#"{"type": "abort", "route": "h", "status": 503, "attempts": {"key": "cookie:session", "first": 0}}"#,
         [#"attempts.key: unknown attempts key "cookie:session" (expected header:NAME, path, method+path or connection)"#,
          "attempts.first: must be at least 1, got 0"]),
        (#"{"type": "abort", "route": "h", "status": 503, "attempts": {"first": 2, "per": "key"}}"#,
         ["attempts.key: missing required key", "attempts.per: unknown key for attempts (expected key, first)"]),
        (#"{"type": "abort", "route": "h", "status": 600, "mark": "yes"}"#,
         ["mark: expected a boolean, got string", "status: must be between 200 and 599, got 600"]),
        (#"{"type": "abort", "route": "h", "status": 503, "headers": {"Transfer-Encoding": "chunked"}}"#,
         ["headers.Transfer-Encoding: Transfer-Encoding is set by the proxy and cannot be given"]),
        (#"{"type": "stall", "route": "a", "attempts": {"key": "path", "first": 1}}"#,
         ["attempts: not allowed for type stall: only for HTTP faults (abort, delay, drop_response, duplicate, rst_stream, goaway, window_stall)"]),
    ] as [(String, [String])])
    func badMatchAndAttemptsAre422WithPaths(body: String, expected: [String]) throws {
        let harness = try Self.harnessWithHTTPRoute()
        let plans = harness.plane.plans.count
        let response = harness.call("POST", "/v1/faults", body)
        #expect(response.status == 422)
        #expect(response.errorCode == "invalid_fault")
        #expect(Self.errors(response) == expected)
        #expect(response.errorPath == expected.first.map { String($0[..<$0.firstIndex(of: ":")!]) })
        #expect(harness.plane.plans.count == plans, "a refused fault changes nothing")
    }

    @Test func anHTTPFaultOnATCPRouteIs422AtRoute() throws {
        let harness = try Self.harnessWithHTTPRoute()
        let plans = harness.plane.plans.count
        let response = harness.call("POST", "/v1/faults", #"{"type": "abort", "route": "a", "status": 503}"#)
        #expect(response.status == 422)
        #expect(response.bodyText == #"{"error":{"code":"invalid_fault","message":"fault type abort acts on http routes; route \"a\" is tcp","path":"route"},"errors":[{"path":"route","message":"fault type abort acts on http routes; route \"a\" is tcp"}]}"# + "\n")
        let mixed = harness.call("POST", "/v1/faults", #"{"type": "delay", "route": ["h", "b"], "delay": "1s"}"#)
        #expect(mixed.errorMessage == #"fault type delay acts on http routes; route "b" is tcp"#)
        #expect(harness.plane.plans.count == plans)
        // "*" is fine: the fault acts on the http routes only.
        #expect(harness.call("POST", "/v1/faults", #"{"type": "abort", "status": 503}"#).status == 201)
    }

    @Test func aGRPCRouteIsAcceptedWithItsUpstreamProtocolAndTakesHTTP2Faults() throws {
        let harness = try Harness()
        let response = harness.call(
            "POST", "/v1/routes",
            #"{"name": "g", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:50051", "protocol": "grpc", "upstream_protocol": "h2"}"#)
        #expect(response.status == 201)
        #expect(response.bodyText.contains(#""protocol":"grpc","from":null,"to":null,"enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":"h2","origin":"runtime"}"#))
        #expect(harness.service.state.route(named: "g")?.spec.upstreamProtocol == .h2)
        let fault = harness.call("POST", "/v1/faults", #"{"type": "rst_stream", "route": "g", "error_code": "REFUSED_STREAM"}"#)
        #expect(fault.status == 201)
        #expect(fault.bodyText
            == #"{"id":"rst_stream-1","type":"rst_stream","route":"g","probability":1.0,"error_code":"REFUSED_STREAM","mark":false}"# + "\n")
        #expect(harness.plane.lastPlan?.route(named: "g")?.faults.first?.kind == .rstStream(errorCode: 7))
    }

    @Test func upstreamProtocolOnATCPRouteIs422AtItsPath() throws {
        let harness = try Harness()
        let response = harness.call(
            "POST", "/v1/routes", #"{"name": "t", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "upstream_protocol": "h2"}"#)
        #expect(response.status == 422)
        #expect(Self.errors(response) == ["upstream_protocol: not allowed for protocol tcp: acts on http and grpc routes only"])
        #expect(harness.service.state.route(named: "t") == nil)
    }

    @Test(arguments: ["h2", "http1"])
    func upstreamProtocolOnAnHTTPRouteIs422AtItsPath(value: String) throws {
        let harness = try Harness()
        let response = harness.call(
            "POST", "/v1/routes",
            #"{"name": "w", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "protocol": "http", "upstream_protocol": "\#(value)"}"#)
        #expect(response.status == 422)
        #expect(Self.errors(response) == [
            "upstream_protocol: translating between HTTP/1.1 and HTTP/2 is not served by this build yet; leave it out and the upstream speaks the client's protocol",
        ])
        #expect(harness.service.state.route(named: "w") == nil)
    }

    @Test func toxiproxyProxiesAreTCPAndTakeNoProtocol() throws {
        let harness = try Harness()
        let response = harness.call("POST", "/proxies", #"{"name": "g", "upstream": "127.0.0.1:50051", "protocol": "grpc"}"#, on: .tcp)
        #expect(response.status == 400)
        #expect(response.bodyText == #"{"error":"bad request body: unknown field \"protocol\" (expected name, listen, upstream or enabled)","status":400}"# + "\n")
        #expect(harness.service.state.route(named: "g") == nil)
    }

    @Test func aScheduleStepMayNotApplyAnHTTPFaultToATCPRoute() throws {
        let harness = try ScheduleServiceTests.Harness(schedule: nil)
        let response = harness.call("PUT", "/v1/schedule", #"{"steps": [{"at": "1s", "apply": {"type": "abort", "route": "n1-n2", "status": 503}}]}"#)
        #expect(response.status == 422)
        #expect(response.errorCode == "invalid_schedule")
        #expect(Self.errors(response) == [#"steps[0].apply.route: fault type abort acts on http routes; route "n1-n2" is tcp"#])
        let anyRoute = harness.call("PUT", "/v1/schedule", #"{"steps": [{"at": "1s", "apply": {"type": "abort", "route": "*", "status": 503}}]}"#)
        #expect(anyRoute.status == 200)
    }

    @Test func aReloadThatMakesARuntimeHTTPFaultsRouteTCPIsAConflict() {
        let plane = FakeDataPlane()
        let json = """
            {"version": 1, "routes": [{"name": "h", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001", "protocol": "http"}]}
            """
        var state = startedState(plane, json: json)
        let sink = RecordingSink()
        #expect(state.perform(state.applyFault(body: body(#"{"id": "pay", "type": "abort", "route": "h", "status": 503}"#)),
                              on: plane, journal: sink).status == 201)
        let before = state
        let tcp = decodeConfig("""
            {"version": 1, "routes": [{"name": "h", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"}]}
            """)
        guard case .reply(let response) = state.reload(to: tcp, path: "f.json") else {
            Issue.record("expected a reply")
            return
        }
        #expect(response.status == 409)
        #expect(response.errorCode == "reload_conflict")
        #expect(response.errorMessage == #"runtime fault "pay": fault type abort acts on http routes; route "h" is tcp; clear it first"#)
        #expect(state == before)
    }
}
