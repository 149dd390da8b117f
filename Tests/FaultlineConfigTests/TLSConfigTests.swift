import FaultlineConfig
import FaultlineCore
import Testing

/// `routes[].tls` and `routes[].upstream_tls`: shapes, defaults and errors with their paths.
@Suite struct TLSConfigTests {
    private func route(_ extra: String, protocolKind: String = "tcp") -> String {
        config(#""routes": [{"name": "r", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "protocol": "\#(protocolKind)", \#(extra)}]"#)
    }

    @Test func terminationDefaultsDependOnTheProtocol() throws {
        let tcp = try #require(decodedConfig(route(#""tls": {"cert": "/c.pem", "key": "/k.pem"}"#)))
        #expect(tcp.routes[0].tls == TLSSettings(certificate: "/c.pem", key: "/k.pem", alpn: []))
        #expect(tcp.routes[0].upstreamTLS == nil)
        let http = try #require(decodedConfig(route(#""tls": {"cert": "/c.pem", "key": "/k.pem"}"#, protocolKind: "http")))
        #expect(http.routes[0].tls?.alpn == ["http/1.1"])
        let grpc = try #require(decodedConfig(route(#""tls": {"cert": "/c.pem", "key": "/k.pem"}"#, protocolKind: "grpc")))
        #expect(grpc.routes[0].tls?.alpn == ["h2", "http/1.1"])
    }

    @Test func httpRoutesMayOfferH2OrNarrowTheList() throws {
        let h2 = try #require(decodedConfig(route(#""tls": {"cert": "c", "key": "k", "alpn": ["h2"]}"#, protocolKind: "http")))
        #expect(h2.routes[0].tls?.alpn == ["h2"])
        let http11 = try #require(decodedConfig(route(#""tls": {"cert": "c", "key": "k", "alpn": ["http/1.1"]}"#, protocolKind: "grpc")))
        #expect(http11.routes[0].tls?.alpn == ["http/1.1"])
    }

    @Test func tcpRoutesMayOfferH2() throws {
        let decoded = try #require(decodedConfig(route(#""tls": {"cert": "c", "key": "k", "alpn": ["h2", "http/1.1"]}"#)))
        #expect(decoded.routes[0].tls?.alpn == ["h2", "http/1.1"])
    }

    @Test func originationDefaultsToVerifying() throws {
        let decoded = try #require(decodedConfig(route(#""upstream_tls": {}"#)))
        #expect(decoded.routes[0].upstreamTLS == UpstreamTLSSettings(ca: nil, serverName: nil, verify: true, alpn: []))
        let full = try #require(decodedConfig(route(
            #""upstream_tls": {"ca": "/ca.pem", "sni": "api.example.test", "verify": false, "alpn": ["h2", "http/1.1"]}"#)))
        #expect(full.routes[0].upstreamTLS == UpstreamTLSSettings(
            ca: "/ca.pem", serverName: "api.example.test", verify: false, alpn: ["h2", "http/1.1"]))
    }

    /// The HTTP/1.1 context's list; the proxy builds an `h2` context beside it for HTTP/2 clients.
    @Test func httpRoutesOfferTheClientsProtocolUpstream() throws {
        let http = try #require(decodedConfig(route(#""upstream_tls": {"sni": "api.example.test"}"#, protocolKind: "http")))
        #expect(http.routes[0].upstreamTLS == UpstreamTLSSettings(serverName: "api.example.test", alpn: ["http/1.1"]))
        let grpc = try #require(decodedConfig(route(#""upstream_tls": {}"#, protocolKind: "grpc")))
        #expect(grpc.routes[0].upstreamTLS?.alpn == ["http/1.1"])
    }

    @Test func nullMeansAbsent() throws {
        let decoded = try #require(decodedConfig(route(#""tls": null, "upstream_tls": null"#)))
        #expect(decoded.routes[0].tls == nil && decoded.routes[0].upstreamTLS == nil)
    }

    @Test(arguments: [
        (#""tls": "yes""#, "tcp", ["routes[0].tls: expected an object, got string"]),
        (#""tls": {}"#, "tcp", ["routes[0].tls.cert: missing required key", "routes[0].tls.key: missing required key"]),
        (#""tls": {"cert": "", "key": 3, "ciphers": "x"}"#, "tcp", [
            "routes[0].tls.cert: must not be empty", "routes[0].tls.key: expected a string, got integer",
            "routes[0].tls.ciphers: unknown key (expected cert, key or alpn)",
        ]),
        (#""tls": {"cert": "c", "key": "k", "alpn": ["spdy/3", "h2", "h2"]}"#, "tcp", [
            #"routes[0].tls.alpn[0]: unknown ALPN protocol "spdy/3" (expected "h2" or "http/1.1")"#,
            #"routes[0].tls.alpn[2]: "h2" is listed twice"#,
        ]),
        (#""tls": {"cert": "c", "key": "k", "alpn": ["h2", "h3"]}"#, "http", [
            #"routes[0].tls.alpn[1]: unknown ALPN protocol "h3" (expected "h2" or "http/1.1")"#,
        ]),
        (#""upstream_tls": {"alpn": ["http/1.1"]}"#, "http", [
            "routes[0].upstream_tls.alpn: on http and grpc routes the upstream is offered the client's protocol (h2 or http/1.1); leave alpn out",
        ]),
        (#""upstream_tls": {"ca": "/ca.pem", "alpn": []}"#, "grpc", [
            "routes[0].upstream_tls.alpn: on http and grpc routes the upstream is offered the client's protocol (h2 or http/1.1); leave alpn out",
        ]),
        (#""upstream_tls": {"sni": "bad name!", "verify": "no", "ca": "", "insecure": true}"#, "tcp", [
            "routes[0].upstream_tls.ca: must not be empty",
            #"routes[0].upstream_tls.sni: "bad name!" is not a valid host name"#,
            "routes[0].upstream_tls.verify: expected a boolean, got string",
            "routes[0].upstream_tls.insecure: unknown key (expected ca, sni, verify or alpn)",
        ]),
        (#""upstream_tls": {"alpn": "h2"}"#, "tcp", ["routes[0].upstream_tls.alpn: expected an array, got string"]),
    ])
    func errors(extra: String, protocolKind: String, expected: [String]) {
        #expect(errorLines(route(extra, protocolKind: protocolKind)) == expected)
    }

    @Test func handshakeTimeoutIsALimit() throws {
        let decoded = try #require(decodedConfig(config(#""limits": {"tls_handshake_timeout": "250ms"}"#)))
        #expect(decoded.limits.tlsHandshakeTimeout == .milliseconds(250))
        #expect(errorLines(config(#""limits": {"tls_handshake_timeout": "0s"}"#)).count == 1)
    }

    @Test func serverNames() {
        #expect(ConfigDecoder.isValidServerName("localhost"))
        #expect(ConfigDecoder.isValidServerName("a-b.example.test"))
        #expect(!ConfigDecoder.isValidServerName("a..b"))
        #expect(!ConfigDecoder.isValidServerName(".a"))
        #expect(!ConfigDecoder.isValidServerName("a b"))
        #expect(!ConfigDecoder.isValidServerName(String(repeating: "a", count: 64)))
    }
}

/// A top-level `$schema` (an editor's pointer at Config/faultline.schema.json) is accepted and
/// ignored; it must be a string.
@Suite struct SchemaKeyTests {
    @Test func aSchemaPointerIsIgnored() {
        #expect(decodedConfig(config(#""$schema": "../faultline.schema.json""#)) != nil)
        #expect(errorLines(config(#""$schema": 3"#)) == [#"$["$schema"]: expected a string, got integer"#])
    }

    /// Found by `Scripts/fuzz config` (docs/HARDENING.md): the error named the key bare, `$schema`,
    /// which JSONPath's own rule forbids (a key with `$` is quoted) and which reads as the root.
    @Test func theSchemaKeysPathIsQuoted() {
        let errors = ConfigDecoder.decode(jsonText: #"{"$schema": [], "version": 1}"#)
        #expect(errors == .failure(ConfigErrors([ConfigError(path: #"$["$schema"]"#, message: "expected a string, got array")])))
    }
}
