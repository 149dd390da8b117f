import FaultlineSystem
import Glibc
import Testing

/// `Posix.resolve`: getaddrinfo's TCP addresses, each with the port; a name that does not resolve
/// throws its `EAI_*` code. Only names that need no network: `localhost` and `.invalid`
/// (RFC 6761: never resolves).
@Suite struct ResolveTests {
    @Test func localhostResolvesToLoopbackWithThePort() throws {
        let addresses = try Posix.resolve(host: "localhost", port: 6379)
        #expect(!addresses.isEmpty)
        #expect(addresses.contains(SocketAddress(ipv4: 127, 0, 0, 1, port: 6379)) || addresses.contains(SocketAddress(ipv6: [UInt8](repeating: 0, count: 15) + [1], port: 6379)))
        #expect(addresses.allSatisfy { $0.port == 6379 && $0.family != .unix })
        #expect(Set(addresses).count == addresses.count, "no duplicates")
    }

    @Test func anInvalidNameThrows() {
        #expect(throws: ResolveError.self) { try Posix.resolve(host: "does-not-exist.invalid", port: 80) }
        do {
            _ = try Posix.resolve(host: "does-not-exist.invalid", port: 80)
        } catch {
            #expect(error.code == EAI_NONAME || error.code == EAI_AGAIN || error.code == EAI_FAIL, "\(error)")
            #expect(!error.reason.isEmpty)
        }
    }
}
