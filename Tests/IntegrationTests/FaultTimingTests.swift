import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// Faults that shape time on real traffic through `faultlined`: latency, bandwidth, slicer,
/// connect_delay, slow_close. Timing is measured on the client's connection.
///
/// Tolerances (debug build, loaded 2-core machine): a fault never acts *early* — lower bounds are
/// exact (1 ms for clock reading); upper bounds allow scheduling slack, stated per test.
final class FaultTimingTests: DaemonTestCase {
    /// latency 60ms ± 20ms downstream from the config file: every ping-pong round trip is held at
    /// least the hold drawn for that chunk from the seeded generator (FAULTS.md: the n-th chunk
    /// gets the n-th draw), within [40, 80] ms, and the holds really vary.
    func testLatencyHoldsEachChunkDelayPlusMinusJitter() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"lag","route":"r","type":"latency","direction":"downstream","delay":"60ms","jitter":"20ms"}"#],
            seed: 7)
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let latency = Latency(delay: .milliseconds(60), jitter: .milliseconds(20), distribution: .uniform)
        var rng = DecisionRNG(seed: 7, faultID: "lag", serial: 0, stream: PolicyCompiler.chunkStream(.downstream))
        var excess: [Double] = []
        var measured: [Double] = []
        for round in 0..<15 {
            let ping = randomBytes(32, seed: UInt64(round))
            let start = Deadline.now()
            try client.send(ping)
            let back = try client.read(exactly: 32, timeout: .seconds(2))
            let rtt = millisecondsSince(start)
            XCTAssertEqual(back, ping, "round \(round) content")
            let hold = Double(latency.nextHoldNanoseconds(&rng)) / 1e6
            XCTAssertGreaterThanOrEqual(rtt, 40 - 1, "round \(round): released before delay - jitter")
            XCTAssertGreaterThanOrEqual(rtt, hold - 1, "round \(round): released before its drawn hold \(hold) ms")
            XCTAssertLessThan(rtt, 80 + 100, "round \(round): \(rtt) ms, far over delay + jitter")
            excess.append(rtt - hold)
            measured.append(rtt)
        }
        let medianExcess = excess.sorted()[excess.count / 2]
        XCTAssertLessThan(medianExcess, 15, "median time beyond the drawn hold, ms: \(excess)")
        let spread = measured.max()! - measured.min()!
        XCTAssertGreaterThan(spread, 15, "jitter ±20ms should spread 15 round trips: \(measured)")
        print("[fault] latency 60±20ms: rtt ms \(measured.map { Int($0) }), median excess \(String(format: "%.2f", medianExcess)) ms")

        // Each held chunk (one per round trip: the echo comes back in one read) is counted once
        // in the proxy's release lateness, and none was released early (a lateness below 0
        // cannot be counted; a release before its time fails the bounds above).
        let lateness = "faultline_latency_release_lateness_seconds"
        XCTAssertEqual(try daemon.metric(lateness + "_count", ["route": "r"]), 15)
        let sum = try XCTUnwrap(try daemon.metric(lateness + "_sum", ["route": "r"]))
        XCTAssertGreaterThanOrEqual(sum, 0)
        XCTAssertLessThan(sum, 15 * 0.1, "15 releases, each far under 100 ms late")
    }

    /// A latency applied at runtime reaches an open connection; clearing it releases held bytes at
    /// once (FAULTS.md: a removed fault lets go of everything it held).
    func testRuntimeLatencyOnOpenConnectionAndClearReleasesHeldBytes() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        func roundTrip(_ tag: UInt64) throws -> Double {
            let ping = randomBytes(16, seed: tag)
            let start = Deadline.now()
            try client.send(ping)
            XCTAssertEqual(try client.read(exactly: 16, timeout: .seconds(5)), ping)
            return millisecondsSince(start)
        }
        let before = try roundTrip(1)
        XCTAssertLessThan(before, 50, "unfaulted round trip")
        let id = try daemon.apply(#"{"route":"r","type":"latency","direction":"upstream","delay":"150ms"}"#)
        let during = try roundTrip(2)
        XCTAssertGreaterThanOrEqual(during, 150 - 1)
        XCTAssertLessThan(during, 150 + 100)

        try daemon.clear(id)
        let after = try roundTrip(3)
        XCTAssertLessThan(after, 50, "round trip after clear")

        // Held bytes leave at once when the fault goes.
        let long = try daemon.apply(#"{"id":"long","route":"r","type":"latency","direction":"upstream","delay":"5s"}"#)
        let ping = randomBytes(16, seed: 4)
        let start = Deadline.now()
        try client.send(ping)
        XCTAssertEqual(client.read(timeout: .milliseconds(300)), .timedOut, "held by the 5s latency")
        try daemon.clear(long)
        XCTAssertEqual(try client.read(exactly: 16, timeout: .seconds(2)), ping)
        let released = millisecondsSince(start)
        XCTAssertLessThan(released, 1500, "held bytes were not released on clear (\(released) ms)")
        print("[fault] runtime latency 150ms: before \(Int(before)) ms, during \(Int(during)) ms, after \(Int(after)) ms, released on clear after \(Int(released)) ms")
    }

    /// bandwidth 500,000 B/s downstream: 1,000,000 echoed bytes arrive at 500 kB/s −7 % / +3 %
    /// (the bucket starts empty and holds 20 ms, so the rate cannot be beaten by more than 1 %).
    func testBandwidthMetersTheRate() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"thin","route":"r","type":"bandwidth","direction":"downstream","bytes_per_second":500000}"#])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let payload = randomBytes(1_000_000, seed: 5)
        let start = Deadline.now()
        let sender = BackgroundSender(client, payload)
        var received: [UInt8] = []
        var firstMs: Double?
        let deadline = Deadline(after: .seconds(10))
        while received.count < payload.count && !deadline.hasPassed {
            if case .data(let bytes) = client.read(timeout: deadline.remaining) {
                if firstMs == nil { firstMs = millisecondsSince(start) }
                received += bytes
            } else {
                break
            }
        }
        let totalMs = millisecondsSince(start)
        XCTAssertNil(sender.finish())
        XCTAssertEqual(received.count, payload.count)
        XCTAssertEqual(SHA256.hex(received), SHA256.hex(payload))
        let rate = Double(received.count) / (totalMs / 1000)
        XCTAssertGreaterThan(rate, 500_000 * 0.93, "measured \(rate) B/s")
        XCTAssertLessThan(rate, 500_000 * 1.03, "measured \(rate) B/s")
        print("[fault] bandwidth 500000 B/s: measured \(Int(rate)) B/s (\(String(format: "%+.2f", (rate / 500_000 - 1) * 100)) %), first byte after \(Int(firstMs ?? -1)) ms")
    }

    /// slicer 10 ± 4 bytes, 10 ms apart, downstream: 300 echoed bytes arrive byte-exact in pieces
    /// that end only on the drawn slice boundaries (two slices may coalesce in the client's
    /// buffer, never split), and the last piece comes no sooner than (slices − 1) × 10 ms.
    func testSlicerSplitsIntoSmallWritesWithGaps() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"cut","route":"r","type":"slicer","direction":"downstream","average_size":10,"size_variation":4,"delay":"10ms"}"#],
            seed: 11)
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let payload = randomBytes(300, seed: 6)
        let slicer = Slicer(averageSize: 10, sizeVariation: 4, delay: .milliseconds(10))
        var rng = DecisionRNG(seed: 11, faultID: "cut", serial: 0, stream: PolicyCompiler.chunkStream(.downstream))
        var boundaries: Set<Int> = [payload.count]
        var offset = 0
        var slices = 0
        while offset < payload.count {
            offset += slicer.nextSliceSize(&rng)
            slices += 1
            boundaries.insert(min(offset, payload.count))
        }

        let start = Deadline.now()
        try client.send(payload)
        var received: [UInt8] = []
        var pieces: [Int] = []
        var lastMs = 0.0
        while received.count < payload.count {
            guard case .data(let bytes) = client.read(timeout: .seconds(5)) else { break }
            received += bytes
            pieces.append(bytes.count)
            lastMs = millisecondsSince(start)
            XCTAssertTrue(boundaries.contains(received.count), "a read ended at \(received.count), inside a slice")
        }
        XCTAssertEqual(received, payload)
        XCTAssertGreaterThanOrEqual(pieces.count, slices / 2, "pieces \(pieces)")
        XCTAssertLessThanOrEqual(pieces.sorted()[pieces.count / 2], 14, "median piece larger than a slice: \(pieces)")
        XCTAssertGreaterThanOrEqual(lastMs, Double(slices - 1) * 10 - 1, "slices came faster than 10 ms apart")
        XCTAssertLessThan(lastMs, Double(slices - 1) * 10 * 2 + 300, "slicing took far too long")
        print("[fault] slicer 10±4 B / 10ms: \(slices) slices, \(pieces.count) reads, last after \(Int(lastMs)) ms (min \((slices - 1) * 10))")
    }

    /// connect_delay 400ms: the upstream is not dialled before 400 ms after accept; the first
    /// echoed byte arrives within [400, 400 + 300] ms of connecting.
    func testConnectDelayDelaysFirstByte() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"slowdial","route":"r","type":"connect_delay","delay":"400ms"}"#])
        let start = Deadline.now()
        let client = try TestSocket.connect(to: try daemon.route("r"))
        try client.send(Array("ping".utf8))
        usleep(200_000)
        XCTAssertEqual(echo.stats.accepted, 0, "upstream dialled before the delay")
        XCTAssertEqual(try client.read(exactly: 4, timeout: .seconds(3)), Array("ping".utf8))
        let firstByte = millisecondsSince(start)
        XCTAssertGreaterThanOrEqual(firstByte, 400 - 1)
        XCTAssertLessThan(firstByte, 400 + 300)
        XCTAssertEqual(echo.stats.accepted, 1)

        // A second connection is delayed likewise; once open, the relay is not slowed.
        let second = Deadline.now()
        let other = try TestSocket.connect(to: try daemon.route("r"))
        try other.send([1])
        _ = try other.read(exactly: 1, timeout: .seconds(3))
        XCTAssertGreaterThanOrEqual(millisecondsSince(second), 400 - 1)
        let pingStart = Deadline.now()
        try other.send([2])
        _ = try other.read(exactly: 1, timeout: .seconds(3))
        XCTAssertLessThan(millisecondsSince(pingStart), 100)
        print("[fault] connect_delay 400ms: first byte after \(Int(firstByte)) ms")
    }

    /// slow_close 500ms downstream: the upstream's data arrives at once, its FIN 500 ms after the
    /// upstream closed (within [500, 500 + 300] ms).
    func testSlowCloseDelaysTheFin() throws {
        let upstream = try TestListener()
        let daemon = try FaultDaemon(
            routes: [("r", upstream.endpoint)],
            faults: [#"{"id":"lingering","route":"r","type":"slow_close","direction":"downstream","delay":"500ms"}"#])
        let client = try TestSocket.connect(to: try daemon.route("r"))
        let server = try upstream.accept()
        let answer = randomBytes(100, seed: 8)
        let closed = Deadline.now()
        try server.send(answer)
        try server.shutdownWrite()
        let drained = client.drain(timeout: .seconds(3), start: closed)
        XCTAssertEqual(drained.bytes, answer)
        XCTAssertEqual(drained.end, .eof)
        XCTAssertLessThan(drained.lastDataMs ?? .infinity, 150, "data before the FIN must not be delayed")
        let finMs = drained.endMs ?? .infinity
        XCTAssertGreaterThanOrEqual(finMs, 500 - 1)
        XCTAssertLessThan(finMs, 500 + 300)
        // The other direction is not delayed: the client's FIN reaches the upstream at once.
        let finStart = Deadline.now()
        try client.shutdownWrite()
        XCTAssertEqual(server.waitForClose(timeout: .seconds(2)), .eof)
        XCTAssertLessThan(millisecondsSince(finStart), 150)
        print("[fault] slow_close 500ms: data after \(Int(drained.lastDataMs ?? -1)) ms, FIN after \(Int(finMs)) ms")
    }
}
