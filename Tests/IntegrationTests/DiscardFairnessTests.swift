import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import Synchronization
import XCTest

/// Bytes a blackhole drops are counted exactly and spend the worker's budget: a client blasting
/// into a blackhole on a one-worker daemon does not starve another connection of that worker.
final class DiscardFairnessTests: DaemonTestCase {
    func testABlackholedBlastIsCountedAndDoesNotStarveTheWorker() throws {
        let echo = try EchoServer(threads: 1)
        let scratch = try makeScratchDirectory("fl-fair")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let daemon = try DaemonProcess(config: """
            {"version": 1, "seed": 1, "workers": 1, "control": {"unix_socket": "\(scratch)/control.sock"},
             "routes": [{"name": "sink", "listen": "127.0.0.1:0", "upstream": "\(echo.endpoint)"},
                        {"name": "echo", "listen": "127.0.0.1:0", "upstream": "\(echo.endpoint)"}],
             "faults": [{"id": "void", "route": "sink", "type": "blackhole", "direction": "upstream"}]}
            """)
        let control = ControlHTTP(socketPath: scratch + "/control.sock")
        let sink = try daemon.route("sink")
        let route = try daemon.route("echo")

        // Two blasters write as fast as loopback takes it for about two seconds.
        let sent = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let chunk = randomBytes(256 << 10, seed: 9)
        let blasters = try (0..<2).map { _ in
            let socket = try TestSocket.connect(to: sink)
            return Thread {
                while !stop.load(ordering: .relaxed) {
                    guard (try? socket.send(chunk)) != nil else { break }
                    sent.wrappingAdd(chunk.count, ordering: .relaxed)
                }
                try? socket.shutdownWrite()
                _ = socket.waitForClose(timeout: .seconds(5))
            }
        }
        for blaster in blasters { blaster.start() }
        usleep(200_000)

        // Meanwhile ping-pong through the other route on the same (only) worker.
        let client = try TestSocket.connect(to: route)
        var worst: Double = 0
        var rounds = 0
        let clock = ContinuousClock()
        let end = clock.now + .seconds(2)
        while clock.now < end {
            let started = clock.now
            try client.send(Array("ping \(rounds)\n".utf8))
            _ = try client.read(exactly: "ping \(rounds)\n".utf8.count, timeout: .seconds(5))
            let took = clock.now - started
            worst = max(worst, Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
            rounds += 1
        }
        stop.store(true, ordering: .relaxed)
        while blasters.contains(where: { !$0.isFinished }) { usleep(10_000) }
        client.close()
        print("[itest] \(sent.load(ordering: .relaxed)) bytes blasted into the blackhole; \(rounds) ping-pongs beside them, worst \(String(format: "%.1f", worst * 1000)) ms")
        XCTAssertGreaterThan(sent.load(ordering: .relaxed), 4 << 20, "the blasters sent a lot")
        XCTAssertGreaterThanOrEqual(rounds, 100, "the other connection kept its share of the worker (worst round trip \(worst) s)")

        // Every byte sent was read and dropped, none relayed.
        let expected = sent.load(ordering: .relaxed)
        var discarded = -1
        let deadline = Deadline(after: .seconds(10))
        repeat {
            let metrics = try control.expect(200, "GET", "/metrics").text
            discarded = metrics.split(separator: "\n")
                .first { $0.hasPrefix(#"faultline_bytes_discarded_total{route="sink",direction="upstream"}"#) }
                .flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? -1
            if discarded == expected { break }
            usleep(50_000)
        } while !deadline.hasPassed
        XCTAssertEqual(discarded, expected)
        let metrics = try control.expect(200, "GET", "/metrics").text
        let relayed = metrics.split(separator: "\n")
            .first { $0.hasPrefix(#"faultline_bytes_total{route="sink",direction="upstream"}"#) }
            .flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? 0
        XCTAssertEqual(relayed, 0, "nothing was relayed upstream on the blackholed route")
        XCTAssertTrue(daemon.isRunning)
    }
}
