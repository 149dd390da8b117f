import FaultlineCore
import FaultlineTestSupport
import XCTest

/// What a client sees when the upstream cannot be reached, and the connection limit.
///
/// TODO: once the control API serves /metrics, also assert
/// `faultline_upstream_connect_failures_total{route,reason="refused"|"timeout"}` and
/// `faultline_connections_accepted_total` here; counters cannot be scraped yet.
final class UpstreamFailureTests: DaemonTestCase {
    /// An upstream port nobody listens on: the client is closed (FIN) promptly.
    func testRefusedUpstreamClosesClientPromptly() throws {
        let port = try Loopback.freePort()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: .loopback(port: port))])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let (closed, seconds) = timed { client.waitForClose(timeout: .seconds(2)) }
        XCTAssertEqual(closed, .eof, "client should be closed with FIN")
        XCTAssertLessThan(seconds, 1.0, "refused upstream took \(seconds) s to close the client")
        // The daemon keeps serving after the failure.
        XCTAssertTrue(daemon.isRunning)
    }

    /// An upstream that never completes the handshake: the client is closed once
    /// `connect_timeout` (300 ms) passes, not before.
    func testConnectTimeoutClosesClientAfterTimeout() throws {
        let upstream = try UnresponsiveUpstream()
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)]) {
            $0.connectTimeout = "300ms"
        }
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let (closed, seconds) = timed { client.waitForClose(timeout: .seconds(3)) }
        XCTAssertEqual(closed, .eof)
        // Tolerance: the timer starts when the daemon accepts, a little after our connect returned.
        XCTAssertGreaterThanOrEqual(seconds, 0.27, "closed before connect_timeout")
        XCTAssertLessThan(seconds, 1.0, "connect_timeout 300ms took \(seconds) s")
    }

    /// With max_connections 5, a sixth concurrent connection is closed at once; once one of the
    /// five ends, a new one is served again.
    func testSixthConnectionOverLimitIsClosedAtOnce() throws {
        let echo = try EchoServer(threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: echo.endpoint)]) {
            $0.maxConnections = 5
        }
        let route = try daemon.route("r")
        var open: [TestSocket] = []
        for index in 0..<5 {
            let client = try TestSocket.connect(to: route)
            let message = Array("client \(index)".utf8)
            try client.send(message)
            XCTAssertEqual(try client.read(exactly: message.count), message, "connection \(index) is served")
            open.append(client)
        }
        let sixth = try TestSocket.connect(to: route)
        let (closed, seconds) = timed { sixth.waitForClose(timeout: .seconds(2)) }
        XCTAssertEqual(closed, .eof, "the sixth connection must be closed")
        XCTAssertLessThan(seconds, 0.5)
        XCTAssertEqual(echo.stats.accepted, 5, "the rejected connection must not reach the upstream")

        // The five are still served.
        for (index, client) in open.enumerated() {
            try client.send([UInt8(index)])
            XCTAssertEqual(try client.read(exactly: 1), [UInt8(index)])
        }
        // Ending one frees a slot.
        try open[0].shutdownWrite()
        XCTAssertEqual(try open[0].readAll(timeout: .seconds(2)), [])
        let deadline = Deadline(after: .seconds(2))
        var served = false
        while !served && !deadline.hasPassed {
            let client = try TestSocket.connect(to: route)
            try? client.send(Array("again".utf8))
            if (try? client.read(exactly: 5, timeout: .milliseconds(500))) == Array("again".utf8) { served = true }
        }
        XCTAssertTrue(served, "a slot freed by a closed connection must be reused")
    }
}
