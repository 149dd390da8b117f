import FaultlineCore
import FaultlineTestSupport
import Glibc
import XCTest

/// SIGHUP reloads and SIGTERM drains.
final class LifecycleTests: DaemonTestCase {
    /// An invalid file on SIGHUP changes nothing: the rejection is logged with each error, the
    /// route keeps its address, open connections and new ones are served.
    func testHangupWithInvalidConfigKeepsServing() throws {
        let echo = try EchoServer(threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "echo", upstream: echo.endpoint)])
        let route = try daemon.route("echo")
        let open = try TestSocket.connect(to: route)
        try open.send(Array("before".utf8))
        XCTAssertEqual(try open.read(exactly: 6), Array("before".utf8))

        try daemon.rewriteConfig(#"{"version":1,"routes":[{"name":"echo","listen":"127.0.0.1:0"}],"bogus":true}"#)
        let mark = daemon.logLines.count
        daemon.signal(SIGHUP)
        let rejected = try XCTUnwrap(daemon.waitForLog(event: "config.reload_rejected", from: mark))
        XCTAssertEqual(rejected["level"], "error")
        XCTAssertEqual(rejected["errors"], "2")
        let invalid = daemon.logLines[mark...].filter { $0.event == "config.invalid" }.compactMap { $0["error"] }
        XCTAssertEqual(invalid, ["routes[0].upstream: missing required key", "bogus: unknown key"])
        XCTAssertNil(daemon.logLines[mark...].first { $0.event == "config.reloaded" })

        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(try daemon.route("echo"), route, "the route's address must not change")
        try open.send(Array("after".utf8))
        XCTAssertEqual(try open.read(exactly: 5), Array("after".utf8), "an open connection survives")
        try assertEchoes(route, bytes: randomBytes(100_000, seed: 6))
    }

    /// A valid file adding a route on SIGHUP: the new route serves, the old one keeps its address
    /// and its open connections.
    func testHangupWithValidConfigAddsRoute() throws {
        let echo = try EchoServer(threads: 1)
        let second = try EchoServer(threads: 1)
        var config = TestConfig(routes: [.init(name: "echo", upstream: echo.endpoint)])
        let daemon = try launch(config)
        let route = try daemon.route("echo")
        let open = try TestSocket.connect(to: route)
        try open.send(Array("x".utf8))
        XCTAssertEqual(try open.read(exactly: 1), Array("x".utf8))

        config.routes.append(.init(name: "second", upstream: second.endpoint))
        try daemon.rewriteConfig(config.json)
        let mark = daemon.logLines.count
        daemon.signal(SIGHUP)
        let reloaded = try XCTUnwrap(daemon.waitForLog(event: "config.reloaded", from: mark), daemon.logText)
        XCTAssertEqual(reloaded["routes"], "2")
        let added = try daemon.route("second")
        XCTAssertEqual(try daemon.route("echo"), route)
        XCTAssertEqual(daemon.logLines[mark...].filter { $0.event == "route.listening" }.compactMap { $0["route"] }, ["second"])

        try assertEchoes(added, bytes: randomBytes(200_000, seed: 7))
        XCTAssertEqual(second.stats.accepted, 1, "the new route must reach its own upstream")
        try assertEchoes(route)
        try open.send(Array("y".utf8))
        XCTAssertEqual(try open.read(exactly: 1), Array("y".utf8))
    }

    /// SIGTERM mid-transfer: new connections are refused at once, the open transfer completes
    /// byte-exact within shutdown_grace, then the daemon exits 0 without waiting out the grace.
    func testTerminateDrainsOpenTransfer() throws {
        let echo = try EchoServer(threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "echo", upstream: echo.endpoint)]) {
            $0.shutdownGrace = "10s"
        }
        let route = try daemon.route("echo")
        let client = try TestSocket.connect(to: route)
        var sent = SHA256()
        var received = SHA256()
        let chunks = 20
        let chunkBytes = 32 * 1024
        var terminatedAt: UInt64 = 0
        for index in 0..<chunks {
            let chunk = randomBytes(chunkBytes, seed: 100 + UInt64(index))
            try client.send(chunk)
            sent.update(chunk)
            received.update(try client.read(exactly: chunkBytes))
            if index == 5 {
                terminatedAt = Deadline.now()
                daemon.signal(SIGTERM)
                let stopping = try XCTUnwrap(daemon.waitForLog(event: "daemon.stopping", timeout: .seconds(2)))
                XCTAssertEqual(stopping["open_connections"], "1")
                XCTAssertEqual(stopping["grace"], "10s")
                // Listeners close within a moment: a new connection is refused. (One that lands
                // before the workers get the drain message is accepted and drained like any other
                // open connection, so it is just closed here.)
                let deadline = Deadline(after: .seconds(2))
                var refused = false
                while !refused && !deadline.hasPassed {
                    do {
                        let late = try TestSocket.connect(to: route, timeout: .milliseconds(200))
                        late.close()
                        usleep(20_000)
                    } catch {
                        refused = error == .system(call: "connect", errno: ECONNREFUSED)
                    }
                }
                XCTAssertTrue(refused, "new connections must be refused while draining")
            }
            usleep(100_000)
        }
        try client.shutdownWrite()
        XCTAssertEqual(try client.readAll(timeout: .seconds(5)), [], "EOF after the last echo")
        XCTAssertEqual(received.finalizeHex(), sent.finalizeHex(), "the drained transfer must be byte-exact")

        let status = daemon.waitForExit(timeout: .seconds(5))
        XCTAssertEqual(status, 0)
        let seconds = Double(Deadline.now() - terminatedAt) / 1e9
        XCTAssertLessThan(seconds, 8, "the daemon must exit once drained, not after the whole grace")
        XCTAssertEqual(daemon.waitForLog(event: "daemon.stopped", timeout: .seconds(1))?["drained"], "all")
    }

    /// A connection still open when shutdown_grace (1 s) ends is closed, and the daemon exits 0.
    func testTerminateClosesWhatIsLeftAfterGrace() throws {
        let echo = try EchoServer(threads: 1)
        let daemon = try startDaemon(routes: [.init(name: "echo", upstream: echo.endpoint)]) {
            $0.shutdownGrace = "1s"
        }
        let client = try TestSocket.connect(to: try daemon.route("echo"))
        try client.send(Array("idle".utf8))
        XCTAssertEqual(try client.read(exactly: 4), Array("idle".utf8))
        daemon.signal(SIGTERM)
        let (status, seconds) = timed { daemon.waitForExit(timeout: .seconds(5)) }
        XCTAssertEqual(status, 0)
        XCTAssertGreaterThanOrEqual(seconds, 0.9, "exited before the grace period ended")
        XCTAssertLessThan(seconds, 3)
        XCTAssertEqual(daemon.waitForLog(event: "daemon.stopped", timeout: .seconds(1))?["drained"], "grace expired")
        XCTAssertNotNil(client.waitForClose(timeout: .seconds(2)), "the leftover connection must be closed")
    }
}
