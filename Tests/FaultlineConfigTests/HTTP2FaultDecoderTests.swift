import FaultlineConfig
import FaultlineCore
import Testing

/// `rst_stream`, `goaway`, `window_stall`, an abort's `grpc_status` / `grpc_message`, and a
/// route's `upstream_protocol` (SPEC §3.5).
@Suite struct HTTP2FaultDecoderTests {
    static func kind(_ text: String) throws -> FaultKind {
        try HTTPFaultDecoderTests.decode(text).get().kind
    }

    static func errors(_ text: String) -> [String] { HTTPFaultDecoderTests.errors(text) }

    @Test func defaults() throws {
        #expect(try Self.kind(#"{"type": "rst_stream"}"#) == .rstStream(errorCode: 2))
        #expect(try Self.kind(#"{"type": "goaway"}"#) == .goaway(errorCode: 0, graceful: true))
        #expect(try Self.kind(#"{"type": "window_stall"}"#) == .windowStall)
        #expect(try HTTPFaultDecoderTests.decode(#"{"type": "window_stall"}"#).get().http == .none)
    }

    @Test func errorCodesByNumberOrName() throws {
        #expect(try Self.kind(#"{"type": "rst_stream", "error_code": "REFUSED_STREAM"}"#) == .rstStream(errorCode: 7))
        #expect(try Self.kind(#"{"type": "rst_stream", "error_code": 0}"#) == .rstStream(errorCode: 0))
        #expect(try Self.kind(#"{"type": "rst_stream", "error_code": 4294967295}"#) == .rstStream(errorCode: .max))
        #expect(try Self.kind(#"{"type": "goaway", "error_code": "ENHANCE_YOUR_CALM", "graceful": false}"#)
            == .goaway(errorCode: 0xb, graceful: false))
        #expect(try Self.kind(#"{"type": "goaway", "error_code": 13}"#) == .goaway(errorCode: 0xd, graceful: true))
    }

    @Test func theEnvelopeOfAnHTTPFault() throws {
        let fault = try HTTPFaultDecoderTests.decode(#"""
        {"id": "cut", "type": "rst_stream", "route": "g", "probability": 0.5, "match": {"path": "/pkg.Svc/Get"},
         "attempts": {"key": "header:idempotency-key", "first": 2}, "mark": true}
        """#).get()
        #expect(fault == FaultSpec(
            id: "cut", routes: .names(["g"]), probability: 0.5, kind: .rstStream(errorCode: 2),
            http: HTTPFaultRule(
                match: HTTPMatch(path: "/pkg.Svc/Get"), attempts: Attempts(key: .header("idempotency-key"), first: 2), mark: true)))
    }

    @Test func errorsNameTheirPaths() {
        let names = HTTP2ErrorCode.names
        let expected = names.dropLast().joined(separator: ", ") + " or " + names.last!
        #expect(Self.errors(#"{"type": "rst_stream", "error_code": "refused_stream"}"#)
            == [#"error_code: unknown HTTP/2 error code "refused_stream" (expected 0–4294967295 or "# + expected + ")"])
        #expect(Self.errors(#"{"type": "rst_stream", "error_code": 4294967296}"#)
            == ["error_code: must be between 0 and 4294967295, got 4294967296"])
        #expect(Self.errors(#"{"type": "goaway", "error_code": -1}"#) == ["error_code: must be between 0 and 4294967295, got -1"])
        #expect(Self.errors(#"{"type": "goaway", "error_code": true}"#)
            == ["error_code: expected an integer or a HTTP/2 error code name, got boolean"])
        #expect(Self.errors(#"{"type": "goaway", "graceful": "yes"}"#) == ["graceful: expected a boolean, got string"])
        #expect(Self.errors(#"{"type": "window_stall", "error_code": 1}"#) == ["error_code: unknown key for type window_stall"])
        #expect(Self.errors(#"{"type": "rst_stream", "graceful": true}"#) == ["graceful: unknown key for type rst_stream"])
        #expect(Self.errors(#"{"type": "goaway", "direction": "upstream"}"#)
            == ["direction: not allowed for type goaway (HTTP faults act on requests)"])
    }

    @Test func grpcAbort() throws {
        #expect(try Self.kind(#"{"type": "abort", "grpc_status": "UNAVAILABLE", "grpc_message": "draining"}"#)
            == .abort(HTTPAbort(status: 200, grpcStatus: 14, grpcMessage: "draining")))
        #expect(try Self.kind(#"{"type": "abort", "grpc_status": 0}"#) == .abort(HTTPAbort(status: 200, grpcStatus: 0)))
        #expect(try Self.kind(#"{"type": "abort", "status": 503, "grpc_status": 16}"#)
            == .abort(HTTPAbort(status: 503, grpcStatus: 16)))
        #expect(try Self.kind(#"{"type": "abort", "status": 503}"#) == .abort(HTTPAbort(status: 503)))
    }

    @Test func grpcAbortErrors() {
        #expect(Self.errors(#"{"type": "abort", "status": 503, "grpc_message": "x"}"#) == ["grpc_message: only allowed with grpc_status"])
        #expect(Self.errors(#"{"type": "abort", "grpc_message": "x"}"#)
            == ["grpc_message: only allowed with grpc_status", "status: missing required key"])
        #expect(Self.errors(#"{"type": "abort", "grpc_status": 17}"#) == ["grpc_status: must be between 0 and 16, got 17"])
        #expect(Self.errors(#"{"type": "abort", "grpc_status": "unavailable"}"#).first?
            .hasPrefix(#"grpc_status: unknown gRPC status "unavailable" (expected 0–16 or OK, CANCELLED, "#) == true)
        #expect(Self.errors(#"{"type": "abort", "grpc_status": 14, "grpc_message": 5}"#) == ["grpc_message: expected a string, got integer"])
        #expect(Self.errors(#"{"type": "abort", "grpc_status": 14, "status": 600}"#) == ["status: must be between 200 and 599, got 600"])
    }

    @Test func http2FaultsMayNotNameATCPRoute() {
        for fault in [#"{"type": "rst_stream", "route": "db"}"#, #"{"type": "goaway", "route": ["web", "db"]}"#,
                      #"{"type": "window_stall", "route": "db"}"#] {
            let type = fault.split(separator: "\"")[3]
            #expect(errorLines(HTTPFaultConfigTests.configWithHTTPRoute("[\(fault)]"))
                == [#"faults[0].route: fault type \#(type) acts on http routes; route "db" is tcp"#])
        }
        #expect(errorLines(HTTPFaultConfigTests.configWithHTTPRoute(#"[{"type": "goaway", "route": "*"}]"#)) == [])
    }

    static func route(_ members: String) -> String {
        config(#""routes": [{"name": "r", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", \#(members)}]"#)
    }

    @Test func upstreamProtocol() throws {
        let unsaid = try #require(decodedConfig(Self.route(#""protocol": "http""#)))
        #expect(unsaid.routes.first?.upstreamProtocol == nil)
        let null = try #require(decodedConfig(Self.route(#""protocol": "http", "upstream_protocol": null"#)))
        #expect(null.routes.first?.upstreamProtocol == nil)
        let grpc = try #require(decodedConfig(Self.route(#""protocol": "grpc", "upstream_protocol": "h2""#)))
        #expect(grpc.routes.first?.upstreamProtocol == .h2)
    }

    @Test func upstreamProtocolErrors() {
        #expect(errorLines(Self.route(#""upstream_protocol": "h2""#))
            == ["routes[0].upstream_protocol: not allowed for protocol tcp: acts on http and grpc routes only"])
        #expect(errorLines(Self.route(#""protocol": "tcp", "upstream_protocol": "http1""#))
            == ["routes[0].upstream_protocol: not allowed for protocol tcp: acts on http and grpc routes only"])
        #expect(errorLines(Self.route(#""protocol": "http", "upstream_protocol": "h2c""#))
            == [#"routes[0].upstream_protocol: unknown upstream protocol "h2c" (expected http1 or h2)"#])
        #expect(errorLines(Self.route(#""protocol": "grpc", "upstream_protocol": "http1""#))
            == [#"routes[0].upstream_protocol: "http1" cannot carry gRPC (it needs HTTP/2); use "h2" or leave it out"#])
    }

    /// The upstream speaks the client's protocol; translating is not served by this build.
    @Test(arguments: ["h2", "http1"])
    func anHTTPRouteRefusesEveryUpstreamProtocol(value: String) {
        #expect(errorLines(Self.route(#""protocol": "http", "upstream_protocol": "\#(value)""#))
            == ["routes[0].upstream_protocol: translating between HTTP/1.1 and HTTP/2 is not served by this build yet; leave it out and the upstream speaks the client's protocol"])
    }

    @Test func aGRPCRouteGetsTheChecksOfAnHTTPRoute() throws {
        #expect(errorLines(Self.route(#""protocol": "grpc", "upstream_tls": {"alpn": ["h2"]}"#))
            == ["routes[0].upstream_tls.alpn: on http and grpc routes the upstream is offered the client's protocol (h2 or http/1.1); leave alpn out"])
        let tls = try #require(decodedConfig(Self.route(#""protocol": "grpc", "tls": {"cert": "c.pem", "key": "k.pem"}"#)))
        #expect(tls.routes.first?.tls?.alpn == ["h2", "http/1.1"])
        #expect(errorLines(Self.route(#""protocol": "grpc", "colour": "red""#)) == ["routes[0].colour: unknown key"])
    }
}
