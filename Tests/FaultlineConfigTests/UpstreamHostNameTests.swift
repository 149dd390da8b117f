import FaultlineConfig
import FaultlineCore
import Testing

/// `routes[].upstream` takes a DNS name and port (Toxiproxy's `"redis:6379"`); `listen` stays an
/// IP address.
@Suite struct UpstreamHostNameTests {
    private func route(listen: String = "127.0.0.1:0", upstream: String) -> String {
        #"{"version": 1, "routes": [{"name": "a", "listen": "\#(listen)", "upstream": "\#(upstream)"}]}"#
    }

    @Test(arguments: [
        ("redis:6379", "redis", 6379),
        ("localhost:6379", "localhost", 6379),
        ("db.internal.example:5432", "db.internal.example", 5432),
        ("my_service-1:80", "my_service-1", 80),
        ("a.b.1a:3", "a.b.1a", 3),
    ] as [(String, String, UInt16)])
    func namesAreKeptAsWritten(text: String, name: String, port: UInt16) throws {
        let config = try #require(decodedConfig(route(upstream: text)))
        #expect(config.routes[0].upstream == UpstreamAddress(host: .name(name), port: port))
        #expect(config.routes[0].upstream.description == text)
        #expect(config.routes[0].upstream.endpoint == nil)
    }

    @Test func ipLiteralsStayAddresses() throws {
        let config = try #require(decodedConfig(route(upstream: "[::1]:5432")))
        #expect(config.routes[0].upstream.endpoint == Endpoint(address: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 5432))
        #expect(config.routes[0].upstream.description == "[0:0:0:0:0:0:0:1]:5432")
        let v4 = try #require(decodedConfig(route(upstream: "10.0.0.5:80")))
        #expect(v4.routes[0].upstream.endpoint == Endpoint(address: .v4(10, 0, 0, 5), port: 80))
    }

    @Test(arguments: [
        "-redis:6379", "redis-:6379", "db..local:5432", ".db:1", "db.:1", "red is:1", "redis", "redis:",
        "redis:65536", "redis:-1", "10.0.0:1", "127.0.0.256:1", "db.local:5432x", "ü.example:80",
        String(repeating: "a", count: 64) + ":1", Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".") + ":1",
    ])
    func badNamesAreRejectedWithTheirPath(text: String) {
        #expect(errorLines(route(upstream: text)) == [#"routes[0].upstream: "\#(text)" is not a valid address"#])
    }

    @Test func listenStaysIPOnly() {
        #expect(errorLines(route(listen: "redis:6379", upstream: "redis:6379")) == [#"routes[0].listen: "redis:6379" is not a valid address"#])
    }
}
