import FaultlineCore
import FaultlineMetrics
@testable import FaultlineProxy
import FaultlineSystem
import FaultlineTestSupport
import Synchronization
import Testing

/// A route to a host name through a real `Proxy`, its resolver answering with fixed addresses (a
/// name with several addresses cannot be made without editing /etc/hosts).
@Suite struct UpstreamNameConnectTests {
    private func start(_ resolve: @escaping @Sendable (String, UInt16) throws(ResolveError) -> [SocketAddress]) throws -> (Proxy, Endpoint) {
        let log = Logger(minimumLevel: .error)
        let proxy = try Proxy(
            workers: 1, bufferBytes: Limits.defaults.bufferBytes, metrics: ProxyMetrics(registry: MetricsRegistry()), log: log,
            events: nil, resolver: UpstreamResolver(log: log, resolve: resolve))
        let spec = RouteSpec(name: "r", listen: Endpoint(address: .v4(127, 0, 0, 1), port: 0), upstream: UpstreamAddress(host: .name("svc"), port: 6379))
        let bound = try proxy.apply(FaultPlan(version: 1, seed: 0, limits: .defaults, routes: [spec], faults: []))
        return (proxy, bound.routes[0].spec.listen)
    }

    private func echoes(_ route: Endpoint, _ text: String) -> Bool {
        guard let client = try? TestSocket.connect(to: route) else { return false }
        defer { client.close() }
        let bytes = Array(text.utf8)
        guard (try? client.send(bytes)) != nil else { return false }
        return (try? client.read(exactly: bytes.count, timeout: .seconds(2))) == bytes
    }

    /// The first address refuses: the connect goes on to the second, and bytes relay exactly.
    @Test func everyAddressIsTriedInOrder() throws {
        let echo = try EchoServer(threads: 1)
        let refused = try Loopback.freePort()
        let (proxy, route) = try start { _, _ in
            [SocketAddress(ipv4: 127, 0, 0, 1, port: refused), SocketAddress(ipv4: 127, 0, 0, 1, port: echo.endpoint.port)]
        }
        defer { proxy.stop() }
        let relayed = echoes(route, String(repeating: "redis ", count: 10_000))
        #expect(relayed, "60,000 bytes echoed exactly through the second address")
        #expect(echo.stats.accepted == 1)
    }

    /// A connect that fails on every address asks the resolver again; the next connect uses the
    /// new answer (the service moved).
    @Test func aConnectThatFailedEverywhereResolvesAgain() throws {
        let echo = try EchoServer(threads: 1)
        let refused = try Loopback.freePort()
        let calls = Atomic<Int>(0)
        let (proxy, route) = try start { _, _ in
            let call = calls.wrappingAdd(1, ordering: .relaxed).newValue
            return [SocketAddress(ipv4: 127, 0, 0, 1, port: call == 1 ? refused : echo.endpoint.port)]
        }
        defer { proxy.stop() }
        let first = try TestSocket.connect(to: route)
        #expect(first.waitForClose(timeout: .seconds(2)) == .eof, "refused on the only address: closed")
        let deadline = Deadline(after: .seconds(2))
        var served = false
        while !served && !deadline.hasPassed { served = echoes(route, "again") }
        #expect(served)
        #expect(calls.load(ordering: .relaxed) == 2, "once for the plan, once after the failure")
    }

    /// A name that does not resolve closes the client; the daemon keeps serving.
    @Test func aNameThatDoesNotResolveFailsTheConnect() throws {
        let (proxy, route) = try start { (_, _) throws(ResolveError) in throw ResolveError(code: -2, reason: "Name or service not known") }
        defer { proxy.stop() }
        let client = try TestSocket.connect(to: route)
        #expect(client.waitForClose(timeout: .seconds(2)) == .eof)
    }
}
