import FaultlineCore
import Testing

@Suite("IPAddress and Endpoint parsing")
struct EndpointTests {
    /// The 16 bytes of an IPv6 address, or nil when it parsed as something else or not at all.
    private func v6Bytes(_ text: String) -> [UInt8]? {
        guard case .v6(let bytes)? = IPAddress(parsing: text) else { return nil }
        return bytes
    }

    @Test("IPv4 dotted quads parse to their four octets")
    func ipv4() {
        #expect(IPAddress(parsing: "1.2.3.4") == .v4(1, 2, 3, 4))
        #expect(IPAddress(parsing: "0.0.0.0") == .v4(0, 0, 0, 0))
        #expect(IPAddress(parsing: "255.255.255.255") == .v4(255, 255, 255, 255))
        #expect(IPAddress(parsing: "localhost") == .v4(127, 0, 0, 1))
    }

    @Test("Malformed IPv4 is rejected", arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1..3.4", "1.2.3.", ".1.2.3",
        " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", "1.2.3.+4", "a.b.c.d", "1.2.3.0004", "١.٢.٣.٤", "LOCALHOST",
    ])
    func badIPv4(_ text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    @Test("IPv6 full form, :: compression and embedded IPv4")
    func ipv6() {
        #expect(v6Bytes("::") == [UInt8](repeating: 0, count: 16))
        #expect(v6Bytes("::1") == [UInt8](repeating: 0, count: 15) + [1])
        #expect(v6Bytes("1::") == [0, 1] + [UInt8](repeating: 0, count: 14))
        #expect(v6Bytes("2001:db8::ff00:42:8329") ==
            [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29])
        #expect(v6Bytes("2001:0DB8:0000:0000:0000:FF00:0042:8329") == v6Bytes("2001:db8::ff00:42:8329"))
        #expect(v6Bytes("1:2:3:4:5:6:7:8") == [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8])
        // `::` standing for exactly one zero group.
        #expect(v6Bytes("1::3:4:5:6:7:8") == [0, 1, 0, 0, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8])
        #expect(v6Bytes("::ffff:1.2.3.4") == [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 1, 2, 3, 4])
        #expect(v6Bytes("::1.2.3.4") == [UInt8](repeating: 0, count: 12) + [1, 2, 3, 4])
        #expect(v6Bytes("1:2:3:4:5:6:1.2.3.4") == [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4])
    }

    @Test("Malformed IPv6 is rejected", arguments: [
        ":", ":::", "1:::2", "1::2::3", "::1::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
        "1::2:3:4:5:6:7:8", "12345::", "g::1", "::1%eth0", "[::1]", "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3", "::1.2.3.4:5", "::256.1.1.1", ":1::", "1:", ":1",
    ])
    func badIPv6(_ text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    @Test("An embedded IPv4 part is only valid as the last 32 bits")
    func embeddedIPv4MustBeLast() {
        // RFC 4291 §2.2 form 3 (x:x:x:x:x:x:d.d.d.d); inet_pton rejects both of these.
        #expect(IPAddress(parsing: "1.2.3.4::") == nil)
        #expect(IPAddress(parsing: "1.2.3.4::5") == nil)
    }

    @Test("Loopback detection")
    func loopback() {
        #expect(IPAddress(parsing: "127.0.0.1")?.isLoopback == true)
        #expect(IPAddress(parsing: "127.255.3.9")?.isLoopback == true)
        #expect(IPAddress(parsing: "128.0.0.1")?.isLoopback == false)
        #expect(IPAddress(parsing: "::1")?.isLoopback == true)
        #expect(IPAddress(parsing: "::")?.isLoopback == false)
        #expect(IPAddress(parsing: "::2")?.isLoopback == false)
    }

    @Test("Endpoints: host:port and [v6]:port, whole port range")
    func endpoints() {
        #expect(Endpoint(parsing: "127.0.0.1:8080") == Endpoint(address: .v4(127, 0, 0, 1), port: 8080))
        #expect(Endpoint(parsing: "localhost:80") == Endpoint(address: .v4(127, 0, 0, 1), port: 80))
        #expect(Endpoint(parsing: "0.0.0.0:0")?.port == 0)
        #expect(Endpoint(parsing: "1.2.3.4:65535")?.port == 65535)
        #expect(Endpoint(parsing: "[::1]:443") ==
            Endpoint(address: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 443))
        #expect(Endpoint(parsing: "[::ffff:10.0.0.1]:9") ==
            Endpoint(address: .v6([UInt8](repeating: 0, count: 10) + [0xff, 0xff, 10, 0, 0, 1]), port: 9))
    }

    @Test("Malformed endpoints are rejected", arguments: [
        "", "1.2.3.4", "1.2.3.4:", ":80", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:123456",
        "1.2.3.4:-1", "1.2.3.4:+80", "1.2.3.4:8o", "1.2.3.4: 80", "1.2.3.4:٨٠", "::1:80", "[::1]",
        "[::1]80", "[::1]:", "[::1:80", "[]:80", "[1.2.3.4]:80", "[::1]x:80", "host:80", "[::1]:80:",
    ])
    func badEndpoints(_ text: String) {
        #expect(Endpoint(parsing: text) == nil)
    }

    @Test("description round-trips through parsing")
    func roundTrip() {
        #expect(Endpoint(parsing: "10.1.2.3:5000")?.description == "10.1.2.3:5000")
        #expect(Endpoint(parsing: "[::1]:80")?.description == "[0:0:0:0:0:0:0:1]:80")
        for text in ["10.1.2.3:5000", "[::1]:80", "[2001:db8::ff00:42:8329]:1", "[::ffff:1.2.3.4]:65535"] {
            let endpoint = Endpoint(parsing: text)
            #expect(endpoint != nil)
            #expect(endpoint.flatMap { Endpoint(parsing: $0.description) } == endpoint, "\(text)")
        }
    }
}

/// `UpstreamAddress`: an IP endpoint or a DNS name, kept as written.
@Suite("UpstreamAddress parsing") struct UpstreamAddressTests {
    @Test func namesAndAddresses() {
        #expect(UpstreamAddress(parsing: "redis:6379") == UpstreamAddress(host: .name("redis"), port: 6379))
        #expect(UpstreamAddress(parsing: "localhost:1")?.description == "localhost:1")
        #expect(UpstreamAddress(parsing: "localhost:1")?.endpoint == nil)
        #expect(UpstreamAddress(parsing: "127.0.0.1:80")?.endpoint == Endpoint(address: .v4(127, 0, 0, 1), port: 80))
        #expect(UpstreamAddress(parsing: "[::1]:80")?.endpoint == Endpoint(address: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 80))
        #expect(UpstreamAddress(parsing: "db.example:5432")?.hostText == "db.example")
        #expect(UpstreamAddress(parsing: "10.1.2.3:5432")?.hostText == "10.1.2.3")
    }

    @Test(arguments: ["redis", "redis:", ":80", "-a:1", "a-:1", "a..b:1", "a.:1", "1.2.3:4", "300.1.1.1:1", "a b:1", "a:99999", "[a]:1"])
    func rejected(text: String) {
        #expect(UpstreamAddress(parsing: text) == nil)
    }
}
