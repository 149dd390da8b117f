import FaultlineSystem
import Testing

@Suite struct SocketAddressTests {
    @Test func ipv4RoundTrip() {
        let address = SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)
        #expect(address.family == .inet)
        #expect(address.port == 8080)
        #expect(address.addressBytes == [127, 0, 0, 1])
        #expect(address.description == "127.0.0.1:8080")
        #expect(address == SocketAddress(ipv4: 127, 0, 0, 1, port: 8080))
        #expect(address != SocketAddress(ipv4: 127, 0, 0, 1, port: 8081))
        #expect(address != SocketAddress(ipv4: 127, 0, 0, 2, port: 8080))
        #expect(Set([address, SocketAddress(ipv4: 127, 0, 0, 1, port: 8080)]).count == 1)
    }

    @Test func ipv6RoundTrip() {
        let bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34]
        let address = SocketAddress(ipv6: bytes, port: 443)
        #expect(address.family == .inet6)
        #expect(address.port == 443)
        #expect(address.addressBytes == bytes)
        #expect(address.description == "[2001:db8:0:0:0:0:0:1234]:443")
        #expect(address == SocketAddress(ipv6: bytes, port: 443))
        #expect(address != SocketAddress(ipv6: bytes, port: 444))
    }

    @Test func unixAddress() {
        let address = SocketAddress(unixPath: "/tmp/x.sock")
        #expect(address.family == .unix)
        #expect(address.port == 0)
        #expect(address.addressBytes.isEmpty)
        #expect(address == SocketAddress(unixPath: "/tmp/x.sock"))
        #expect(address != SocketAddress(unixPath: "/tmp/y.sock"))
    }

    /// Binding to port 0 and reading the address back gives the same address with a real port.
    @Test(arguments: [SocketAddress.Family.inet, .inet6])
    func boundAddressRoundTrips(family: SocketAddress.Family) throws {
        let wanted = family == .inet
            ? SocketAddress(ipv4: 127, 0, 0, 1, port: 0)
            : SocketAddress(ipv6: [UInt8](repeating: 0, count: 15) + [1], port: 0)
        let listener: FileDescriptor
        do {
            listener = try Posix.listen(at: wanted, reusePort: false)
        } catch {
            // ::1 may be missing in some containers; IPv4 must always work.
            try #require(family == .inet6, "listen on \(wanted) failed: \(error)")
            return
        }
        let bound = try Posix.localAddress(listener)
        #expect(bound.family == family)
        #expect(bound.addressBytes == wanted.addressBytes)
        #expect(bound.port != 0)
        listener.close()
    }
}
