import FaultlineConfig
import FaultlineCore
import Testing

@Suite struct HTTPFaultDecoderTests {
    static func decode(_ text: String) -> Result<FaultSpec, ConfigErrors> {
        FaultDecoder.decodeFault(try! JSONParser.parse(text).get(), path: "", knownRoutes: nil)
    }

    static func errors(_ text: String) -> [String] {
        switch decode(text) {
        case .success: return []
        case .failure(let errors): return errors.errors.map { "\($0.path): \($0.message)" }
        }
    }

    @Test func abortWithEverything() throws {
        let fault = try Self.decode(#"""
        {"id": "a", "type": "abort", "route": "pay", "status": 503, "body": "nope", "headers": {"retry-after": "1"},
         "match": {"method": ["POST", "PUT"], "path": "/pay", "headers": {"X-Tenant": "a", "x-debug": "*"}},
         "attempts": {"key": "header:Idempotency-Key", "first": 2}, "mark": true, "probability": 0.5}
        """#).get()
        #expect(fault.kind == .abort(HTTPAbort(status: 503, body: "nope", headers: [HTTPHeaderPair("retry-after", "1")])))
        #expect(fault.http.match == HTTPMatch(
            methods: ["POST", "PUT"], path: "/pay",
            headers: [HTTPHeaderMatch(name: "x-tenant", value: "a"), HTTPHeaderMatch(name: "x-debug", value: nil)]))
        #expect(fault.http.attempts == Attempts(key: .header("idempotency-key"), first: 2))
        #expect(fault.http.mark)
        #expect(fault.probability == 0.5)
    }

    @Test func defaults() throws {
        #expect(try Self.decode(#"{"type": "delay", "delay": "1s"}"#).get().kind
            == .delay(delay: .seconds(1), jitter: .zero, phase: .request))
        #expect(try Self.decode(#"{"type": "drop_response"}"#).get().kind == .dropResponse(then: .reset))
        #expect(try Self.decode(#"{"type": "duplicate"}"#).get().kind == .duplicate(copies: 1, spacing: .zero))
        #expect(try Self.decode(#"{"type": "duplicate"}"#).get().http == .none)
    }

    @Test func errorsNameTheirPaths() {
        #expect(Self.errors(#"{"type": "abort"}"#) == ["status: missing required key"])
        #expect(Self.errors(#"{"type": "abort", "status": 99}"#).first?.hasPrefix("status: ") == true)
        #expect(Self.errors(#"{"type": "abort", "status": 500, "headers": {"content-length": "1"}}"#)
            == ["headers.content-length: content-length is set by the proxy and cannot be given"])
        #expect(Self.errors(#"{"type": "abort", "status": 500, "match": {"method": "P O"}}"#)
            == [#"match.method: "P O" is not an HTTP method"#])
        #expect(Self.errors(#"{"type": "abort", "status": 500, "match": {"path": "pay"}}"#)
            == [#"match.path: must start with "/", got "pay""#])
        #expect(Self.errors(#"{"type": "abort", "status": 500, "match": {"verb": "GET"}}"#)
            == ["match.verb: unknown key for match (expected method, path, path_prefix, headers)"])
        #expect(Self.errors(#"{"type": "abort", "status": 500, "attempts": {"key": "cookie", "first": 2}}"#)
            == [#"attempts.key: unknown attempts key "cookie" (expected header:NAME, path, method+path or connection)"#])
        #expect(Self.errors(#"{"type": "abort", "status": 500, "attempts": {"key": "path"}}"#)
            == ["attempts.first: missing required key"])
        #expect(Self.errors(#"{"type": "abort", "status": 500, "direction": "upstream"}"#)
            == ["direction: not allowed for type abort (HTTP faults act on requests)"])
        #expect(Self.errors(#"{"type": "latency", "delay": "1s", "match": {}}"#)
            == ["match: not allowed for type latency: only for HTTP faults (abort, delay, drop_response, duplicate, rst_stream, goaway, window_stall)"])
        #expect(Self.errors(#"{"type": "duplicate", "copies": 11}"#).first?.hasPrefix("copies: ") == true)
        #expect(Self.errors(#"{"type": "drop_response", "then": "explode"}"#).first?.hasPrefix("then: ") == true)
    }

    @Test func configChecksRoutesAndProtocols() {
        func configErrors(_ text: String) -> [String] {
            switch ConfigDecoder.decode(try! JSONParser.parse(text).get()) {
            case .success: return []
            case .failure(let errors): return errors.errors.map { "\($0.path): \($0.message)" }
            }
        }
        #expect(configErrors(#"""
        {"version": 1, "routes": [{"name": "g", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "protocol": "grpc"}]}
        """#) == [])
        #expect(configErrors(#"""
        {"version": 1, "routes": [{"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}],
         "faults": [{"type": "abort", "route": "db", "status": 503}]}
        """#) == [#"faults[0].route: fault type abort acts on http routes; route "db" is tcp"#])
        #expect(configErrors(#"""
        {"version": 1, "routes": [{"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}],
         "faults": [{"type": "abort", "route": "*", "status": 503}]}
        """#) == [])
    }
}
