import FaultlineCore
import FaultlineMetrics
@testable import FaultlineProxy
import FaultlineSystem
import FaultlineTestSupport
import Testing

/// `Proxy.apply` is all or nothing across workers: a worker held busy past the timeout makes
/// the apply fail, and then no worker runs the new plan, the held one included once it wakes.
@Suite struct ApplyRollbackTests {
    private func spec(_ name: String, port: UInt16, upstream: Endpoint) -> RouteSpec {
        RouteSpec(name: name, listen: Endpoint(address: .v4(127, 0, 0, 1), port: port),
                  upstream: UpstreamAddress(host: .address(upstream.address), port: upstream.port))
    }

    private func echoes(_ route: Endpoint, _ seed: Int) -> Bool {
        guard let client = try? TestSocket.connect(to: route) else { return false }
        defer { client.close() }
        let bytes = Array("rollback \(seed) ".utf8)
        guard (try? client.send(bytes)) != nil else { return false }
        return (try? client.read(exactly: bytes.count, timeout: .seconds(2))) == bytes
    }

    /// Waits until every worker has handled everything posted before.
    private func settle(_ proxy: Proxy) {
        let done = CountdownLatch(count: proxy.workerCount)
        for index in 0..<proxy.workerCount { proxy.runOnWorker(index) { done.countDown() } }
        #expect(done.wait(timeoutNanoseconds: 5_000_000_000))
    }

    @Test func aPlanThatAWorkerDoesNotTakeInTimeChangesNothingAnywhere() throws {
        let echo = try EchoServer(threads: 1)
        let proxy = try Proxy(
            workers: 2, bufferBytes: Limits.defaults.bufferBytes, metrics: ProxyMetrics(registry: MetricsRegistry()),
            log: Logger(minimumLevel: .error), events: nil, resolver: UpstreamResolver(log: Logger(minimumLevel: .error)),
            acknowledgeTimeout: .milliseconds(300))
        defer { proxy.stop() }
        let first = try proxy.apply(FaultPlan(version: 1, seed: 0, limits: .defaults,
                                              routes: [spec("a", port: 0, upstream: echo.endpoint)], faults: []))
        let routeA = first.routes[0].spec.listen
        let portB = try Loopback.freePort()

        // Worker 1 is busy until released; the plan that swaps route a for route b times out.
        let release = CountdownLatch(count: 1)
        proxy.runOnWorker(1) { _ = release.wait(timeoutNanoseconds: 10_000_000_000) }
        let swapped = FaultPlan(version: 2, seed: 0, limits: .defaults,
                                routes: [spec("b", port: portB, upstream: echo.endpoint)], faults: [])
        let refused = #expect(throws: ProxyError.self) { try proxy.apply(swapped) }
        #expect(refused?.dataPlaneTimeout == true, "\(String(describing: refused))")
        #expect(proxy.boundAddresses == ["a": routeA], "the control side keeps the old plan")

        // While worker 1 is still held, b's fresh listeners are closed already (a retry must find
        // the port free), and worker 0 never put b in force.
        #expect((try? TestSocket.connect(to: Endpoint(address: .v4(127, 0, 0, 1), port: portB))) == nil)
        release.countDown()
        settle(proxy)

        // Both workers run the old plan: route a serves every connection (the kernel spreads
        // them over both workers' listeners), b's port is closed.
        let served = (0..<40).filter { echoes(routeA, $0) }.count
        #expect(served == 40)
        #expect((try? TestSocket.connect(to: Endpoint(address: .v4(127, 0, 0, 1), port: portB))) == nil)

        // And the next apply goes through both phases normally.
        let next = try proxy.apply(swapped)
        #expect(next.routes[0].spec.listen.port == portB)
        settle(proxy)
        #expect((0..<10).allSatisfy { echoes(Endpoint(address: .v4(127, 0, 0, 1), port: portB), $0) })
        #expect((try? TestSocket.connect(to: routeA)) == nil, "route a is gone once b is in force")
    }

    @Test func ownListenersMayMoveWithinAPlanButNotBeJoined() throws {
        let echo = try EchoServer(threads: 1)
        let proxy = try Proxy(
            workers: 2, bufferBytes: Limits.defaults.bufferBytes, metrics: ProxyMetrics(registry: MetricsRegistry()),
            log: Logger(minimumLevel: .error), events: nil, resolver: UpstreamResolver(log: Logger(minimumLevel: .error)))
        defer { proxy.stop() }
        let port = try Loopback.freePort()
        var wildcard = spec("a", port: port, upstream: echo.endpoint)
        wildcard.listen = Endpoint(address: .v4(0, 0, 0, 0), port: port)
        try proxy.apply(FaultPlan(version: 1, seed: 0, limits: .defaults, routes: [wildcard], faults: []))
        // The same route moves from 0.0.0.0:P to 127.0.0.1:P: its own listeners overlap, and close on commit.
        try proxy.apply(FaultPlan(version: 2, seed: 0, limits: .defaults, routes: [spec("a", port: port, upstream: echo.endpoint)], faults: []))
        settle(proxy)
        #expect(echoes(Endpoint(address: .v4(127, 0, 0, 1), port: port), 1))

        // A route on port 0 keeps its bound port; another route naming that port is refused,
        // not let into the first one's SO_REUSEPORT group.
        let first = try proxy.apply(FaultPlan(version: 3, seed: 0, limits: .defaults,
                                              routes: [spec("z", port: 0, upstream: echo.endpoint)], faults: []))
        let taken = first.routes[0].spec.listen.port
        let clash = FaultPlan(version: 4, seed: 0, limits: .defaults,
                              routes: [spec("z", port: 0, upstream: echo.endpoint), spec("y", port: taken, upstream: echo.endpoint)], faults: [])
        let refused = #expect(throws: ProxyError.self) { try proxy.apply(clash) }
        #expect(refused.map { "\($0)" } == "route y: cannot listen on 127.0.0.1:\(taken): Address already in use")
    }
}
