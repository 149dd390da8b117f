import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// Faults that act on the bytes themselves, on real traffic through `faultlined`: blackhole,
/// stall, limit_data, corrupt.
final class FaultStreamTests: DaemonTestCase {
    /// blackhole upstream, applied at runtime to an open connection: bytes sent vanish (the
    /// upstream never gets them, nothing comes back), the connection stays open; after the clear,
    /// new bytes flow again and the swallowed ones never turn up.
    func testBlackholeDropsBytesAndKeepsConnectionOpen() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        try client.send(Array("ping".utf8))
        XCTAssertEqual(try client.read(exactly: 4), Array("ping".utf8))

        let id = try daemon.apply(#"{"route":"r","type":"blackhole","direction":"upstream"}"#)
        try client.send(randomBytes(10_000, seed: 1))
        XCTAssertEqual(client.read(timeout: .milliseconds(1000)), .timedOut, "nothing arrives, the connection stays open")
        XCTAssertEqual(echo.stats.bytesReceived, 4, "the upstream got blackholed bytes")
        XCTAssertEqual(echo.stats.open, 1)

        try daemon.clear(id)
        try client.send(Array("pong".utf8))
        XCTAssertEqual(try client.read(exactly: 4, timeout: .seconds(2)), Array("pong".utf8),
                       "only bytes sent after the clear come back")
        XCTAssertEqual(client.read(timeout: .milliseconds(200)), .timedOut)
        XCTAssertEqual(echo.stats.bytesReceived, 8)
    }

    /// blackhole both ways from the config: the client's FIN still passes, so a closing peer is
    /// seen closing (EOF, zero bytes), and no byte reached the upstream.
    func testBlackholeLetsTheFinThrough() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)], faults: [#"{"id":"void","route":"r","type":"blackhole"}"#])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        try client.send(randomBytes(50_000, seed: 2))
        try client.shutdownWrite()
        let drained = client.drain(timeout: .seconds(3))
        XCTAssertEqual(drained.bytes.count, 0)
        XCTAssertEqual(drained.end, .eof)
        XCTAssertEqual(echo.stats.bytesReceived, 0)
    }

    /// stall upstream at runtime: while stalled nothing reaches the upstream or comes back, and the
    /// sender blocks (backpressure); after `DELETE /v1/faults/{id}` all 8 MB arrive byte-exact.
    func testStallHoldsEverythingAndLosesNothingAfterClear() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        try client.send(Array("ping".utf8))
        XCTAssertEqual(try client.read(exactly: 4), Array("ping".utf8))

        try daemon.apply(#"{"id":"hold","route":"r","type":"stall","direction":"upstream"}"#)
        let payload = randomBytes(8 << 20, seed: 3)
        let sender = BackgroundSender(client, payload)
        XCTAssertEqual(client.read(timeout: .milliseconds(700)), .timedOut, "bytes came back while stalled")
        let sentWhileStalled = sender.bytesSent
        usleep(300_000)
        XCTAssertEqual(echo.stats.bytesReceived, 4, "the upstream got bytes while stalled")
        XCTAssertLessThan(sentWhileStalled, payload.count, "no backpressure: the sender never blocked")
        XCTAssertEqual(sender.bytesSent, sentWhileStalled, "the sender made progress while stalled")

        try daemon.clear("hold")
        let received = try client.read(exactly: payload.count, timeout: .seconds(20))
        XCTAssertNil(sender.finish())
        XCTAssertEqual(received.count, payload.count)
        XCTAssertEqual(SHA256.hex(received), SHA256.hex(payload))
        try client.shutdownWrite()
        XCTAssertEqual(client.drain(timeout: .seconds(3)).end, .eof)
        print("[fault] stall: \(sentWhileStalled) of \(payload.count) bytes accepted by the kernel while stalled; all delivered after clear")
    }

    /// limit_data 1000 downstream: exactly the first 1,000 echoed bytes, then EOF (FIN, not RST).
    func testLimitDataDownstreamDeliversExactlyNBytesThenEOF() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"cap","route":"r","type":"limit_data","direction":"downstream","bytes":1000}"#])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let payload = randomBytes(5000, seed: 4)
        try client.send(payload)
        let drained = client.drain(timeout: .seconds(3))
        XCTAssertEqual(drained.bytes.count, 1000)
        XCTAssertEqual(drained.bytes, Array(payload[0..<1000]))
        XCTAssertEqual(drained.end, .eof)
    }

    /// limit_data 1000 upstream: the upstream gets exactly the first 1,000 bytes, then EOF; so
    /// does the client (both sides closed).
    func testLimitDataUpstreamDeliversExactlyNBytesThenEOF() throws {
        let upstream = try TestListener()
        let daemon = try FaultDaemon(
            routes: [("r", upstream.endpoint)],
            faults: [#"{"id":"cap","route":"r","type":"limit_data","direction":"upstream","bytes":1000}"#])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        let payload = randomBytes(3000, seed: 5)
        try client.send(payload)
        let got = server.drain(timeout: .seconds(3))
        XCTAssertEqual(got.bytes, Array(payload[0..<1000]))
        XCTAssertEqual(got.end, .eof)
        XCTAssertNotNil(client.drain(timeout: .seconds(3)).end, "client side not closed")
    }

    /// corrupt 0.001 downstream: the echo differs from what was sent only at flipped bits, exactly
    /// at the positions the seeded generator draws (chunking does not matter), and their number
    /// is rate × bits ± 15 % (σ ≈ 2.5 %). The upstream direction is untouched.
    func testCorruptFlipsBitsAtTheDrawnRate() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"noise","route":"r","type":"corrupt","direction":"downstream","bit_flip_rate":0.001}"#],
            seed: 21)
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let payload = randomBytes(200_000, seed: 6)
        let sender = BackgroundSender(client, payload)
        let received = try client.read(exactly: payload.count, timeout: .seconds(10))
        XCTAssertNil(sender.finish())

        var flips: [Int] = []  // bit positions, byte * 8 + bit
        for index in payload.indices where payload[index] != received[index] {
            let diff = payload[index] ^ received[index]
            for bit in 0..<8 where diff & (1 << bit) != 0 { flips.append(index * 8 + bit) }
        }
        let expectedCount = 0.001 * Double(payload.count * 8)
        XCTAssertGreaterThan(Double(flips.count), expectedCount * 0.85, "\(flips.count) flips")
        XCTAssertLessThan(Double(flips.count), expectedCount * 1.15, "\(flips.count) flips")

        var rng = DecisionRNG(seed: 21, faultID: "noise", serial: 0, stream: PolicyCompiler.chunkStream(.downstream))
        var corruption = Corruption(bitFlipRate: 0.001, rng: &rng)
        var drawn: [Int] = []
        corruption.forEachFlip(inBytes: payload.count, rng: &rng) { drawn.append($0 * 8 + $1) }
        XCTAssertEqual(flips, drawn, "flipped bits differ from the seeded draws")
        print("[fault] corrupt 0.001 over \(payload.count * 8) bits: \(flips.count) flips (expected \(Int(expectedCount))), positions match the seeded draws")
    }

    /// corrupt with rate 0.5 but probability 0: never bound, so the echo is byte-exact.
    func testCorruptWithProbabilityZeroChangesNothing() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"never","route":"r","type":"corrupt","bit_flip_rate":0.5,"probability":0}"#])
        let route = try daemon.route("r")
        for round in 0..<3 {
            try assertEchoes(route, bytes: randomBytes(100_000, seed: UInt64(10 + round)))
        }
        XCTAssertEqual(try daemon.injections(fault: "never"), [])
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "r", "fault": "never", "type": "corrupt"]) ?? 0, 0)
    }
}
