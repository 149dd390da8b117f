import FaultlineConfig
import FaultlineCore
import Testing

/// HTTP faults in whole configs and schedules, the finer decoding rules, and the examples in
/// `Config/examples`.
@Suite struct HTTPFaultConfigTests {
    /// A config with an http route `web` and a tcp route `db`, and the given faults array.
    static func configWithHTTPRoute(_ faults: String, schedule: String? = nil) -> String {
        config(#"""
        "routes": [
          {"name": "web", "listen": "127.0.0.1:18080", "upstream": "127.0.0.1:8080", "protocol": "http"},
          {"name": "db", "listen": "127.0.0.1:15432", "upstream": "127.0.0.1:5432"}
        ],
        "faults": \#(faults)\#(schedule.map { #", "schedule": "# + $0 } ?? "")
        """#)
    }

    @Test(arguments: [
        // abort
        (#"{"type": "abort", "status": 204, "body": "x"}"#, ["body: must be empty for status 204 (that response has no body)"]),
        (#"{"type": "abort", "status": 304, "body": "x"}"#, ["body: must be empty for status 304 (that response has no body)"]),
        (#"{"type": "abort", "status": 199}"#, ["status: must be between 200 and 599, got 199"]),
        (#"{"type": "abort", "status": "503"}"#, ["status: expected an integer, got string"]),
        (#"{"type": "abort", "status": 503, "body": 5}"#, ["body: expected a string, got integer"]),
        (#"{"type": "abort", "status": 503, "headers": ["a"]}"#, ["headers: expected an object of header names to values, got array"]),
        (#"{"type": "abort", "status": 503, "headers": {"bad name": "1", "Connection": "close", "Content-Length": "0"}}"#, [
            #"headers["bad name"]: "bad name" is not a valid header name"#,
            "headers.Connection: Connection is set by the proxy and cannot be given",
            "headers.Content-Length: Content-Length is set by the proxy and cannot be given",
        ]),
        (#"{"type": "abort", "status": 503, "headers": {"x-a": "1\r\nx-b: 2"}}"#, ["headers.x-a: header value must not contain control characters"]),
        (#"{"type": "abort", "status": 503, "headers": {"X-A": "1", "x-a": "2"}}"#,
         [#"headers.x-a: header "x-a" is also given as "X-A" (names are case-insensitive)"#]),
        // delay, drop_response, duplicate
        (#"{"type": "delay"}"#, ["delay: missing required key"]),
        (#"{"type": "delay", "delay": "1s", "jitter": "x", "phase": "later"}"#,
         [#"jitter: "x" is not a duration"#, #"phase: unknown phase "later" (expected request or response)"#]),
        (#"{"type": "drop_response", "then": "explode"}"#, [#"then: unknown value "explode" (expected reset, close or hang)"#]),
        (#"{"type": "duplicate", "copies": 0, "spacing": 5}"#,
         ["copies: must be between 1 and 10, got 0", "spacing: expected a duration string, got integer"]),
        (#"{"type": "duplicate", "copies": 11}"#, ["copies: must be between 1 and 10, got 11"]),
        (#"{"type": "duplicate", "delay": "1s"}"#, ["delay: unknown key for type duplicate"]),
        // match
        (#"{"type": "drop_response", "match": "POST /pay"}"#, ["match: expected an object, got string"]),
        (#"{"type": "drop_response", "match": {"method": 1}}"#, ["match.method: expected a string, got integer"]),
        (#"{"type": "drop_response", "match": {"method": ""}}"#, [#"match.method: "" is not an HTTP method"#]),
        (#"{"type": "drop_response", "match": {"method": ["GET", 2]}}"#, ["match.method[1]: expected a string, got integer"]),
        (#"{"type": "drop_response", "match": {"path_prefix": "api/"}}"#, [#"match.path_prefix: must start with "/", got "api/""#]),
        (#"{"type": "drop_response", "match": {"path": "/pay?id=1"}}"#,
         [#"match.path: must not contain "?" (the query is not part of the path), got "/pay?id=1""#]),
        (#"{"type": "drop_response", "match": {"headers": {"x-a": "*", "X-A": "1"}}}"#,
         [#"match.headers.X-A: header "X-A" is also given as "x-a" (names are case-insensitive)"#]),
        (#"{"type": "drop_response", "match": {"headers": {"x-a": "\u0000"}}}"#,
         ["match.headers.x-a: header value must not contain control characters"]),
        // attempts, mark
        (#"{"type": "drop_response", "attempts": 2}"#, ["attempts: expected an object, got integer"]),
        (#"{"type": "drop_response", "attempts": {"key": "header:", "first": 1}}"#,
         [#"attempts.key: unknown attempts key "header:" (expected header:NAME, path, method+path or connection)"#]),
        (#"{"type": "drop_response", "attempts": {"key": "path", "first": 0}}"#, ["attempts.first: must be at least 1, got 0"]),
        (#"{"type": "drop_response", "attempts": {"key": "path", "first": 1.5}}"#, ["attempts.first: expected an integer, got number"]),
        (#"{"type": "drop_response", "mark": 1}"#, ["mark: expected a boolean, got integer"]),
        // the envelope
        (#"{"type": "delay", "delay": "1s", "direction": "both"}"#, ["direction: not allowed for type delay (HTTP faults act on requests)"]),
        (#"{"type": "delay", "delay": "1s", "direction": "sideways"}"#, ["direction: not allowed for type delay (HTTP faults act on requests)"]),
        (#"{"type": "blackhole", "mark": true, "attempts": {}, "match": {}}"#, [
            "match: not allowed for type blackhole: only for HTTP faults (abort, delay, drop_response, duplicate, rst_stream, goaway, window_stall)",
            "attempts: not allowed for type blackhole: only for HTTP faults (abort, delay, drop_response, duplicate, rst_stream, goaway, window_stall)",
            "mark: not allowed for type blackhole: only for HTTP faults (abort, delay, drop_response, duplicate, rst_stream, goaway, window_stall)",
        ]),
        (#"{"type": "partition", "groups": [["a"], ["b"]], "mark": true}"#,
         ["mark: not allowed for type partition: only for HTTP faults (abort, delay, drop_response, duplicate, rst_stream, goaway, window_stall)"]),
        (#"{"type": "abort", "status": 503, "probability": 2}"#, ["probability: must be between 0 and 1, got 2"]),
    ] as [(String, [String])])
    func errors(json: String, expected: [String]) {
        #expect(faultErrorLines(json) == expected)
    }

    @Test func errorsInAConfigCarryTheFaultsPath() {
        #expect(errorLines(Self.configWithHTTPRoute(#"""
        [{"type": "abort", "route": "web", "status": 503, "match": {"method": []}, "attempts": {"key": "x", "first": 1}}]
        """#)) == [
            "faults[0].match.method: must name at least one method",
            #"faults[0].attempts.key: unknown attempts key "x" (expected header:NAME, path, method+path or connection)"#,
        ])
    }

    @Test func anHTTPFaultMustNotNameATCPRoute() {
        #expect(errorLines(Self.configWithHTTPRoute(#"[{"type": "duplicate", "route": "db"}]"#))
            == [#"faults[0].route: fault type duplicate acts on http routes; route "db" is tcp"#])
        #expect(errorLines(Self.configWithHTTPRoute(#"[{"type": "drop_response", "route": ["web", "db"]}]"#))
            == [#"faults[0].route: fault type drop_response acts on http routes; route "db" is tcp"#])
        #expect(errorLines(Self.configWithHTTPRoute(#"[{"type": "delay", "delay": "1s", "route": "*"}]"#)) == [])
        #expect(errorLines(Self.configWithHTTPRoute(#"[{"type": "abort", "status": 500, "route": "web"}]"#)) == [])
        // Byte-stream faults act on any route.
        #expect(errorLines(Self.configWithHTTPRoute(#"[{"type": "stall", "route": ["web", "db"]}]"#)) == [])
    }

    @Test func aScheduleStepMustNotApplyAnHTTPFaultToATCPRoute() {
        let schedule = #"{"steps": [{"at": "1s", "apply": {"type": "abort", "status": 503, "route": "db"}}, {"at": "2s", "apply": {"type": "abort", "status": 503, "route": "web"}}]}"#
        #expect(errorLines(Self.configWithHTTPRoute("[]", schedule: schedule))
            == [#"schedule.steps[0].apply.route: fault type abort acts on http routes; route "db" is tcp"#])
    }

    @Test func aGRPCRouteDecodesAndTakesHTTPFaults() throws {
        let decoded = try #require(decodedConfig(config(#"""
        "routes": [{"name": "g", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:50051", "protocol": "grpc"}],
        "faults": [{"type": "abort", "route": "g", "grpc_status": "UNAVAILABLE"}, {"type": "rst_stream", "route": "g"}]
        """#)))
        #expect(decoded.routes.map(\.protocolKind) == [.grpc])
        #expect(decoded.faults.map(\.kind) == [.abort(HTTPAbort(status: 200, grpcStatus: 14)), .rstStream(errorCode: 2)])
        #expect(errorLines(config(#"""
        "routes": [{"name": "g", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "protocol": "h2"}]
        """#)) == [#"routes[0].protocol: unknown protocol "h2" (expected tcp, http or grpc)"#])
    }

    @Test func anHTTPFaultDecodesWithTheWholeEnvelope() throws {
        let config = try #require(decodedConfig(Self.configWithHTTPRoute(#"""
        [{"id": "slow", "type": "delay", "route": "web", "delay": "1s", "jitter": "100ms", "phase": "response",
          "match": {"method": "GET", "path_prefix": "/search/", "headers": {"X-Tenant": "beta"}}, "probability": 0.25}]
        """#)))
        #expect(config.faults == [FaultSpec(
            id: "slow", routes: .names(["web"]), direction: .both, probability: 0.25,
            kind: .delay(delay: .seconds(1), jitter: .milliseconds(100), phase: .response),
            http: HTTPFaultRule(match: HTTPMatch(
                methods: ["GET"], pathPrefix: "/search/", headers: [HTTPHeaderMatch(name: "x-tenant", value: "beta")])))])
    }

    @Test(arguments: [
        FaultSpec(id: "empty-match", kind: .dropResponse(then: .close), http: HTTPFaultRule(match: HTTPMatch())),
        FaultSpec(id: "both-paths", routes: .names(["a", "b"]), kind: .abort(HTTPAbort(status: 200)),
                  http: HTTPFaultRule(match: HTTPMatch(methods: ["GET"], path: "/x", pathPrefix: "/"),
                                      attempts: Attempts(key: .connection, first: 1))),
        FaultSpec(id: "by-path", probability: 0, kind: .abort(HTTPAbort(status: 599, body: "é\n", headers: [
            HTTPHeaderPair("X-One", "1"), HTTPHeaderPair("x-two", "a b\tc"),
        ])), http: HTTPFaultRule(attempts: Attempts(key: .path, first: 1_000_000))),
        FaultSpec(id: "no-rule", kind: .delay(delay: .zero, jitter: .zero, phase: .request)),
    ])
    func roundTrips(fault: FaultSpec) throws {
        let text = JSONWriter.render(FaultEncoder.encode(fault))
        let decoded = try FaultDecoder.decodeFault(try JSONParser.parse(text).get(), path: "", knownRoutes: ["a", "b"]).get()
        #expect(decoded == fault)
        #expect(!text.contains("\"direction\""), "HTTP faults have no direction")
    }

    @Test func markIsWrittenOnlyForHTTPFaults() {
        let stall = JSONWriter.render(FaultEncoder.encode(FaultSpec(id: "s", kind: .stall)))
        #expect(stall == #"{"id":"s","type":"stall","route":"*","direction":"both","probability":1.0}"#)
        let drop = JSONWriter.render(FaultEncoder.encode(FaultSpec(id: "d", kind: .dropResponse(then: .reset))))
        #expect(drop == #"{"id":"d","type":"drop_response","route":"*","probability":1.0,"then":"reset","mark":false}"#)
    }

    // MARK: Config/examples

    static let examplesDirectory: String = {
        // Tests/FaultlineConfigTests/<this file> → the package root.
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Config/examples"
    }()

    @Test(arguments: ["abort", "delay", "drop_response", "duplicate", "rst_stream", "goaway", "window_stall", "grpc_abort"])
    func theExampleLoadsAndShowsMatchAndAttempts(example: String) throws {
        let type = example == "grpc_abort" ? "abort" : example
        let path = Self.examplesDirectory + "/\(example).json"
        let config: DaemonConfig
        switch ConfigLoader.load(path: path) {
        case .success(let loaded): config = loaded
        case .failure(let errors):
            Issue.record("\(path) does not load:\n\(errors)")
            return
        }
        #expect(!config.routes.isEmpty)
        #expect(config.routes.allSatisfy { $0.protocolKind.isHTTP })
        #expect(config.faults.count == 1)
        let fault = try #require(config.faults.first)
        #expect(fault.kind.typeName == type)
        #expect(fault.routes == .names([config.routes[0].name]))
        #expect(fault.http.match != nil, "the example shows match")
        if type != "delay" && type != "window_stall" { #expect(fault.http.attempts != nil, "the example shows attempts") }
        if example == "grpc_abort" {
            #expect(config.routes.map(\.protocolKind) == [.grpc])
            #expect(fault.kind == .abort(HTTPAbort(status: 200, grpcStatus: 14, grpcMessage: "injected: try again")))
        }
        // The example reads back from its encoding unchanged, as the control API shows it.
        let encoded = FaultEncoder.encode(fault)
        let knownRoutes = Set(config.routes.map(\.name))
        #expect(try FaultDecoder.decodeFault(encoded, path: "", knownRoutes: knownRoutes).get() == fault)
    }
}
