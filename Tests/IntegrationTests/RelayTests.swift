import Glibc
import FaultlineCore
import FaultlineTestSupport
import XCTest

/// Bytes, half-closes and resets through a route.
final class RelayTests: DaemonTestCase {
    /// Issue acceptance: 1,000 concurrent connections, random sizes up to 4 MiB (≈ 280 MB in all),
    /// every echo byte-exact by SHA-256 at both ends.
    func testThousandConcurrentConnectionsEchoByteExact() throws {
        let echo = try EchoServer(threads: 2)
        let daemon = try startDaemon(routes: [.init(name: "echo", upstream: echo.endpoint)]) {
            $0.maxConnections = 2000
        }
        let route = try daemon.route("echo")
        let count = 1000
        let sizes = EchoLoad.sizes(count: count, maxBytes: 4 << 20, seed: 20_261_124)
        let total = sizes.reduce(0, +)
        XCTAssertTrue((150_000_000...600_000_000).contains(total), "total payload \(total) out of the intended range")

        let (results, seconds) = timed {
            EchoLoad.run(to: route, sizes: sizes, seed: 99, threads: 2, timeout: .seconds(90)) {
                // All connections must be open through the proxy at once before any byte moves.
                let deadline = Deadline(after: .seconds(15))
                while echo.stats.open < count && !deadline.hasPassed { usleep(5_000) }
            }
        }
        let failures = results.filter { !$0.isExact }
        XCTAssertEqual(failures.count, 0, "first failures: \(failures.prefix(5))")
        XCTAssertGreaterThanOrEqual(echo.stats.peakOpen, count, "connections were not all open at once")
        XCTAssertEqual(echo.stats.bytesReceived, total)
        // Under a sanitizer the relay is checked byte for byte but not for speed (TSan: 73.6 s).
        if Sanitizer.active == nil { XCTAssertLessThan(seconds, 60, "1,000-connection echo took \(seconds) s") }
        print("[itest] 1000 connections, \(total) bytes each way, \(String(format: "%.1f", seconds)) s, peak upstream connections \(echo.stats.peakOpen)")
        XCTAssertTrue(daemon.isRunning)
    }

    /// Client shuts its write side: the upstream sees EOF and can still answer; the client reads
    /// the whole answer, then EOF.
    func testClientHalfCloseLetsUpstreamStillAnswer() throws {
        let upstream = try TestListener()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        let request = randomBytes(300_000, seed: 1)
        try client.send(request)
        try client.shutdownWrite()
        XCTAssertEqual(SHA256.hex(try server.readAll(timeout: .seconds(5))), SHA256.hex(request), "upstream got the request then EOF")

        usleep(300_000)  // the half-open connection must survive a pause
        let answer = randomBytes(2_000_000, seed: 2)
        try server.send(answer)
        try server.shutdownWrite()
        let got = try client.readAll(timeout: .seconds(10))
        XCTAssertEqual(got.count, answer.count)
        XCTAssertEqual(SHA256.hex(got), SHA256.hex(answer))
    }

    /// Upstream shuts its write side first: the client sees EOF and can still send; the upstream
    /// gets every byte.
    func testUpstreamHalfCloseLetsClientStillSend() throws {
        let upstream = try TestListener()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        let greeting = Array("220 hello, then FIN\r\n".utf8)
        try server.send(greeting)
        try server.shutdownWrite()
        XCTAssertEqual(try client.readAll(timeout: .seconds(5)), greeting, "client got the greeting then EOF")

        usleep(300_000)
        let upload = randomBytes(2_000_000, seed: 3)
        try client.send(upload)
        try client.shutdownWrite()
        let got = try server.readAll(timeout: .seconds(10))
        XCTAssertEqual(got.count, upload.count)
        XCTAssertEqual(SHA256.hex(got), SHA256.hex(upload))
    }

    /// A client RST reaches the upstream as RST (ECONNRESET), not as a FIN.
    func testClientResetPropagatesAsReset() throws {
        let upstream = try TestListener()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        try client.send(Array("before reset".utf8))
        XCTAssertEqual(try server.read(exactly: 12), Array("before reset".utf8))
        client.reset()
        XCTAssertEqual(server.waitForClose(timeout: .seconds(2)), .reset)
    }

    /// An upstream RST reaches the client as RST (ECONNRESET).
    func testUpstreamResetPropagatesAsReset() throws {
        let upstream = try TestListener()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        try server.send(Array("hello".utf8))
        XCTAssertEqual(try client.read(exactly: 5), Array("hello".utf8))
        server.reset()
        XCTAssertEqual(client.waitForClose(timeout: .seconds(2)), .reset)
    }

    /// An upstream RST after its FIN still reaches a client that sends nothing more: the client
    /// socket reports the error (POLLERR) without writing a byte.
    func testUpstreamResetAfterItsFINReachesAnIdleClient() throws {
        let upstream = try TestListener()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        try server.send(Array("bye".utf8))
        try server.shutdownWrite()
        XCTAssertEqual(try client.readAll(timeout: .seconds(5)), Array("bye".utf8))
        server.reset()
        let deadline = Deadline(after: .seconds(2))
        var sawError = false
        while !deadline.hasPassed && !sawError {
            var entry = pollfd(fd: client.rawDescriptor, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, 50)
            sawError = entry.revents & Int16(POLLERR) != 0
        }
        XCTAssertTrue(sawError, "the upstream's RST after its FIN did not reach the idle client")
    }

    /// An upstream that resets mid-stream (after 64 KiB) resets the client too.
    func testUpstreamResetMidTransferResetsClient() throws {
        let echo = try EchoServer(behavior: .resetAfterBytes(65_536), threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        // Sending may itself fail with ECONNRESET/EPIPE once the reset arrives; that is fine.
        try? client.send(randomBytes(1_000_000, seed: 4), timeout: .seconds(5))
        XCTAssertEqual(client.waitForClose(timeout: .seconds(3)), .reset)
        XCTAssertEqual(echo.stats.resetsSent, 1)
    }

    /// An upstream that closes at once passes its FIN to the client.
    func testUpstreamClosingAtOnceClosesClient() throws {
        let echo = try EchoServer(behavior: .closeImmediately, threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        XCTAssertEqual(client.waitForClose(timeout: .seconds(2)), .eof)
    }

    /// An upstream that never reads gets backpressure, not an unbounded buffer in the proxy: the
    /// client's send stalls. When that upstream then closes with bytes unread (the kernel sends
    /// RST) while the proxy still holds bytes for it, the client is reset and the daemon lives on.
    func testSilentUpstreamStallsTheSenderThenResets() throws {
        let echo = try EchoServer(behavior: .silent, threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let big = [UInt8](repeating: 0x5a, count: 64 << 20)
        XCTAssertThrowsError(try client.send(big, timeout: .seconds(2))) { error in
            guard case TestSocketError.timedOut = error else { return XCTFail("expected a stalled send, got \(error)") }
        }
        XCTAssertEqual(echo.stats.bytesReceived, 0)
        XCTAssertEqual(echo.stats.open, 1)

        // stop() shuts down (FIN) and closes with bytes unread, so the kernel then sends RST. The
        // client sees that FIN as EOF; the proxy's next write to the upstream fails, and the
        // client must then be reset.
        echo.stop()
        let first = client.waitForClose(timeout: .seconds(3))
        XCTAssertNotNil(first)
        if first == .eof {
            XCTAssertTrue(client.waitForReset(timeout: .seconds(3)), "after the upstream's RST the client must be reset")
        }
        usleep(200_000)
        XCTAssertTrue(daemon.isRunning, "faultlined died when the upstream reset; log:\n\(daemon.logText)")
        try assertNewClientClosedPromptly(daemon)
    }

    /// After its upstream went away, the route still answers: a new client is closed promptly
    /// (upstream refused), not left hanging.
    private func assertNewClientClosedPromptly(_ daemon: DaemonProcess) throws {
        guard daemon.isRunning else { return }
        let client = try TestSocket.connect(to: try daemon.route("r"))
        // The silent upstream is gone: the daemon must close this client promptly, not hang.
        XCTAssertNotNil(client.waitForClose(timeout: .seconds(2)))
    }

    /// A route listening on [::1] to an IPv6 upstream.
    func testIPv6RouteToIPv6Upstream() throws {
        guard Loopback.hasIPv6 else { throw XCTSkip("::1 is not available on this host") }
        let echo = try EchoServer(endpoint: .loopbackV6(port: 0), threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "v6", listen: "[::1]:0", upstream: echo.endpoint)])
        let route = try daemon.route("v6")
        guard case .v6 = route.address else { return XCTFail("route.listening gave \(route), not an IPv6 address") }
        try assertEchoes(route, bytes: randomBytes(1_500_000, seed: 5))
        XCTAssertEqual(echo.stats.accepted, 1)
    }
}
