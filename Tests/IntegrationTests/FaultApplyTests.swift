import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import XCTest

/// A fault applied to a route with many open, idle connections is in force on each of them the
/// moment the API answers, although the re-plan of a connection nothing is bound to waits for its
/// next event (`ReplanScope`, Worker.install): its next byte is handled under the new plan, a
/// fault that acts without traffic reaches it at once, and clearing releases what a fault holds.
final class FaultApplyTests: DaemonTestCase {
    private let idleCount = 300

    /// `count` connections through `endpoint`, each proven with one echoed byte, then left idle.
    private func openIdle(_ endpoint: Endpoint, count: Int) throws -> [TestSocket] {
        try (0..<count).map { _ in
            let socket = try TestSocket.connect(to: endpoint)
            try socket.send([0x2a])
            XCTAssertEqual(try socket.read(exactly: 1), [0x2a])
            return socket
        }
    }

    /// Milliseconds one byte takes to come back on `socket`.
    private func echoMilliseconds(_ socket: TestSocket, _ byte: UInt8, timeout: Duration = .seconds(5)) throws -> Double {
        let start = Deadline.now()
        try socket.send([byte])
        XCTAssertEqual(try socket.read(exactly: 1, timeout: timeout), [byte])
        return millisecondsSince(start)
    }

    func testByteFaultsActOnIdleConnectionsFromTheirNextByte() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("a", echo.endpoint), ("b", echo.endpoint)])
        let onA = try openIdle(try daemon.route("a"), count: idleCount)
        let onB = try openIdle(try daemon.route("b"), count: 20)
        let probes = [onA[0], onA[1], onA[idleCount / 2], onA[idleCount - 1]]

        // latency: the next byte of each old connection is held, although none of them had an
        // event between the apply and that byte.
        try daemon.apply(#"{"id":"lat","route":"a","type":"latency","delay":"400ms","direction":"upstream"}"#)
        for (index, socket) in probes.enumerated() {
            let ms = try echoMilliseconds(socket, UInt8(index))
            XCTAssertGreaterThanOrEqual(ms, 395, "probe \(index): the latency applied before its byte did not hold it")
        }
        // One binding per connection that moved a byte since; the idle ones have none yet.
        XCTAssertEqual(
            try daemon.metric("faultline_fault_injections_total", ["route": "a", "fault": "lat", "type": "latency"]),
            Double(probes.count))
        XCTAssertEqual(try daemon.injections(fault: "lat").count, probes.count)
        try daemon.clear("lat")
        for (index, socket) in probes.enumerated() {
            XCTAssertLessThan(try echoMilliseconds(socket, UInt8(index)), 395, "probe \(index): latency outlived its clear")
        }

        // blackhole: the next byte of an idle connection is dropped, not echoed.
        try daemon.apply(#"{"id":"bh","route":"a","type":"blackhole","direction":"upstream"}"#)
        for socket in probes {
            try socket.send([0x55])
            XCTAssertEqual(socket.read(timeout: .milliseconds(300)), .timedOut, "a blackholed byte came back")
        }
        try daemon.clear("bh")
        for (index, socket) in probes.enumerated() {
            _ = try echoMilliseconds(socket, UInt8(index))
        }

        // stall: the byte waits (the connection now carries a fault, so the clear re-plans it
        // at once and releases the byte, with no further event from the client).
        try daemon.apply(#"{"id":"st","route":"a","type":"stall","direction":"upstream"}"#)
        try probes[0].send([0x66])
        XCTAssertEqual(probes[0].read(timeout: .milliseconds(300)), .timedOut, "a stalled byte came through")
        try daemon.clear("st")
        XCTAssertEqual(try probes[0].read(exactly: 1, timeout: .seconds(3)), [0x66])

        // Every connection of both routes still relays.
        for (index, socket) in (onA + onB).enumerated() {
            _ = try echoMilliseconds(socket, UInt8(truncatingIfNeeded: index))
        }
    }

    func testFaultsThatActWithoutTrafficReachIdleConnectionsAtOnce() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("a", echo.endpoint), ("b", echo.endpoint)])
        let onA = try openIdle(try daemon.route("a"), count: idleCount)
        let onB = try openIdle(try daemon.route("b"), count: 20)

        // A reset due at once: every idle connection of the route gets its RST without sending.
        try daemon.apply(#"{"id":"rst","route":"a","type":"reset","after":"0s","direction":"upstream"}"#)
        for (index, socket) in onA.enumerated() {
            XCTAssertTrue(socket.waitForReset(timeout: .seconds(5)), "idle connection \(index) was not reset")
        }
        XCTAssertEqual(
            try daemon.metric("faultline_fault_injections_total", ["route": "a", "fault": "rst", "type": "reset"]),
            Double(idleCount))
        try daemon.clear("rst")

        // timeout closes idle connections after its time, with nothing sent.
        let more = try openIdle(try daemon.route("a"), count: 50)
        try daemon.apply(#"{"id":"to","route":"a","type":"timeout","timeout":"200ms","direction":"upstream"}"#)
        for (index, socket) in more.enumerated() {
            XCTAssertNotNil(socket.waitForClose(timeout: .seconds(5)), "idle connection \(index) outlived its timeout")
        }
        try daemon.clear("to")

        for (index, socket) in onB.enumerated() {
            _ = try echoMilliseconds(socket, UInt8(truncatingIfNeeded: index))
        }
    }
}
