import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// Faults that end connections, on real traffic through `faultlined`: reset, timeout, refuse.
final class FaultCloseTests: DaemonTestCase {
    /// reset with after_bytes 1000 downstream: the client reads exactly the first 1,000 echoed
    /// bytes, then sees ECONNRESET.
    func testResetAfterBytesDeliversExactlyThoseBytesThenRST() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"rst","route":"r","type":"reset","direction":"downstream","after_bytes":1000}"#])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let payload = randomBytes(5000, seed: 1)
        try client.send(payload)
        let drained = client.drain(timeout: .seconds(3))
        XCTAssertEqual(drained.bytes.count, 1000)
        XCTAssertEqual(drained.bytes, Array(payload[0..<1000]))
        XCTAssertEqual(drained.end, .reset)
    }

    /// reset after 300ms: both sides get RST ≈ 300 ms after accept (within [300, 300 + 250] ms);
    /// bytes flow normally before that.
    func testResetAfterDelayResetsBothSides() throws {
        let upstream = try TestListener()
        let daemon = try FaultDaemon(
            routes: [("r", upstream.endpoint)],
            faults: [#"{"id":"rst","route":"r","type":"reset","after":"300ms"}"#])
        let start = Deadline.now()
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        try client.send(Array("hello".utf8))
        XCTAssertEqual(try server.read(exactly: 5), Array("hello".utf8))
        let drained = client.drain(timeout: .seconds(2), start: start)
        XCTAssertEqual(drained.end, .reset)
        let resetMs = drained.endMs ?? .infinity
        XCTAssertGreaterThanOrEqual(resetMs, 300 - 1)
        XCTAssertLessThan(resetMs, 300 + 250)
        XCTAssertEqual(server.waitForClose(timeout: .seconds(1)), .reset, "the upstream side must be reset too")
        print("[fault] reset after 300ms: RST after \(Int(resetMs)) ms")
    }

    /// timeout 400ms: data stops at once (the upstream gets nothing), both sides are closed with
    /// FIN 400 ms after accept (within [400, 400 + 300] ms).
    func testTimeoutStopsDataThenClosesBothSides() throws {
        let upstream = try TestListener()
        let daemon = try FaultDaemon(
            routes: [("r", upstream.endpoint)],
            faults: [#"{"id":"to","route":"r","type":"timeout","timeout":"400ms"}"#])
        let start = Deadline.now()
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        try client.send(Array("hello".utf8))
        try server.send(Array("world".utf8))
        let clientSide = client.drain(timeout: .seconds(2), start: start)
        XCTAssertEqual(clientSide.bytes, [], "data passed despite the timeout")
        XCTAssertEqual(clientSide.end, .eof)
        let closeMs = clientSide.endMs ?? .infinity
        XCTAssertGreaterThanOrEqual(closeMs, 400 - 1)
        XCTAssertLessThan(closeMs, 400 + 300)
        let serverSide = server.drain(timeout: .seconds(1))
        XCTAssertEqual(serverSide.bytes, [], "data passed despite the timeout")
        XCTAssertEqual(serverSide.end, .eof)
        print("[fault] timeout 400ms: closed after \(Int(closeMs)) ms")
    }

    /// timeout "0s" never closes: data is dropped until the fault is cleared, then flows again.
    func testTimeoutZeroNeverCloses() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let id = try daemon.apply(#"{"route":"r","type":"timeout","timeout":"0s"}"#)
        try client.send(Array("lost".utf8))
        XCTAssertEqual(client.read(timeout: .milliseconds(800)), .timedOut)
        try daemon.clear(id)
        try client.send(Array("kept".utf8))
        XCTAssertEqual(try client.read(exactly: 4, timeout: .seconds(2)), Array("kept".utf8))
    }

    /// refuse (existing: keep) at runtime: a new connection is reset at once without an upstream
    /// connect; the connection that was open keeps working; after the clear new ones work.
    func testRefuseResetsNewConnectionsAndKeepsExisting() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)])
        let route = try daemon.route("r")
        let existing = try TestSocket.connect(to: route)
        try existing.send([1])
        _ = try existing.read(exactly: 1)
        XCTAssertEqual(echo.stats.accepted, 1)

        let id = try daemon.apply(#"{"route":"r","type":"refuse"}"#)
        let start = Deadline.now()
        let outcome = try TestSocket.connectUnlessReset(to: route)?.read(timeout: .seconds(2)) ?? .reset
        let resetMs = millisecondsSince(start)
        XCTAssertEqual(outcome, .reset)
        XCTAssertLessThan(resetMs, 200, "not reset at once")
        XCTAssertEqual(echo.stats.accepted, 1, "a refused connection must not reach the upstream")

        try existing.send([2])
        XCTAssertEqual(try existing.read(exactly: 1), [2], "existing: keep")

        try daemon.clear(id)
        try assertEchoes(route)
        print("[fault] refuse: new connection reset after \(String(format: "%.1f", resetMs)) ms")
    }

    /// refuse with existing: reset resets the connections open when it is applied.
    func testRefuseExistingResetResetsOpenConnections() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)])
        let route = try daemon.route("r")
        let open = try (0..<3).map { _ in try TestSocket.connect(to: route) }
        for socket in open {
            try socket.send([7])
            _ = try socket.read(exactly: 1)
        }
        try daemon.apply(#"{"route":"r","type":"refuse","existing":"reset"}"#)
        for (index, socket) in open.enumerated() {
            XCTAssertEqual(socket.read(timeout: .seconds(1)), .reset, "open connection \(index) not reset")
        }
        XCTAssertEqual(try TestSocket.connectUnlessReset(to: route)?.read(timeout: .seconds(1)) ?? .reset, .reset,
                       "a new connection must be refused")
    }
}
