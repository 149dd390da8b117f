import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Synchronization
import XCTest

/// The schedule runner in the real daemon: steps land at their due time and act on live traffic.
final class ScheduleTests: DaemonTestCase {
    /// One ping on the persistent connection: when it left (realtime ns) and its round trip.
    private struct Ping: Sendable {
        var sentAt: Int64
        var roundTrip: Int64?
    }

    /// Sends an 8-byte sequence number every ~15 ms on one connection through the route and
    /// waits up to 180 ms for the echo; a ping that does not come back is lost.
    private final class Pinger: Sendable {
        private let state = Mutex<(pings: [Ping], running: Bool)>(([], true))
        private let done = DispatchSemaphore(value: 0)

        init(socket: TestSocket) {
            Thread.detachNewThread { [self] in
                var sequence: UInt64 = 0
                while state.withLock({ $0.running }) {
                    sequence += 1
                    let sent = realtimeNanoseconds()
                    var roundTrip: Int64?
                    let bytes = withUnsafeBytes(of: sequence.littleEndian) { Array($0) }
                    if (try? socket.send(bytes)) != nil, let back = try? socket.read(exactly: 8, timeout: .milliseconds(180)), back == bytes {
                        roundTrip = realtimeNanoseconds() - sent
                    }
                    state.withLock { $0.pings.append(Ping(sentAt: sent, roundTrip: roundTrip)) }
                    usleep(15_000)
                }
                done.signal()
            }
        }

        func stop() -> [Ping] {
            state.withLock { $0.running = false }
            done.wait()
            return state.withLock { $0.pings }
        }
    }

    /// Issue acceptance: three steps (`for`, a plain apply, a clear), repeated twice, against a
    /// live connection. Every step is journaled within ±20 ms of its due time, and the traffic
    /// shows each fault exactly in its window.
    func testThreeStepScheduleWithForAndRepeatLandsOnTimeAgainstLiveTraffic() throws {
        let echo = try EchoServer(threads: 1)
        let daemon = try ControlledDaemon(configJSON: """
            {"version": 1, "seed": 7, "workers": 2, "control": {"unix_socket": "@CONTROL@"},
             "routes": [{"name": "r", "listen": "127.0.0.1:0", "upstream": "\(echo.endpoint)", "from": "n1", "to": "n2"}],
             "schedule": {"start": "manual",
               "steps": [
                 {"at": "200ms", "apply": {"id": "lag", "route": "r", "type": "latency", "direction": "downstream", "delay": "100ms"}, "for": "500ms"},
                 {"at": "900ms", "apply": {"id": "cut", "type": "partition", "groups": [["n1"], ["n2"]]}},
                 {"at": "1200ms", "clear": "cut"}
               ],
               "repeat": {"every": "1600ms", "times": 2}}}
            """)
        XCTAssertEqual(try daemon.call("GET", "/v1/schedule")["state"] as? String, "idle")
        let pinger = Pinger(socket: try TestSocket.connect(to: try daemon.daemon.route("r")))
        usleep(100_000)
        let started = try daemon.call("POST", "/v1/schedule/start")
        XCTAssertEqual(started["state"] as? String, "running")
        let deadline = Deadline(after: .seconds(10))
        while try daemon.call("GET", "/v1/schedule")["state"] as? String != "finished" && !deadline.hasPassed { usleep(50_000) }
        usleep(200_000)
        let pings = pinger.stop()

        let journal = try daemon.journal()
        guard let start = journal.first(where: { $0["event"] as? String == "schedule.started" }).flatMap(timestamp) else {
            return XCTFail("no schedule.started in \(journal)")
        }
        // (step, iteration, automatic) → due offset in ms.
        var expected: [String: Int64] = [:]
        for iteration in 0..<2 {
            let base = Int64(iteration) * 1600
            expected["0/\(iteration)/apply"] = base + 200
            expected["0/\(iteration)/for"] = base + 700
            expected["1/\(iteration)/apply"] = base + 900
            expected["2/\(iteration)/clear"] = base + 1200
        }
        let steps = journal.filter { $0["event"] as? String == "schedule.step" }
        XCTAssertEqual(steps.count, 8)
        var worst: Int64 = 0
        var previous: Int64 = 0
        for step in steps {
            let kind = step["automatic"] as? Bool == true ? "for" : (step["action"] as? String ?? "?")
            let key = "\(step["step"] ?? "?")/\(step["iteration"] ?? "?")/\(kind)"
            guard let dueMs = expected.removeValue(forKey: key), let at = timestamp(step) else {
                XCTFail("unexpected step \(step)")
                continue
            }
            let offBy = at - start - dueMs * 1_000_000
            worst = max(worst, abs(offBy))
            XCTAssertLessThanOrEqual(abs(offBy), 20_000_000, "step \(key) journaled \(offBy / 1000) µs from its due time")
            XCTAssertLessThanOrEqual((step["lateness_us"] as? Int) ?? .max, 20_000)
            XCTAssertEqual(step["result"] as? String, "ok")
            XCTAssertGreaterThanOrEqual(at, previous, "steps journaled in order")
            previous = at
        }
        XCTAssertEqual(expected, [:], "steps missing from the journal")
        XCTAssertEqual(journal.last { ($0["event"] as? String)?.hasPrefix("schedule.") == true }?["event"] as? String, "schedule.finished")
        XCTAssertEqual(try daemon.metric("faultline_schedule_steps_total"), "8")
        print("[itest] schedule: 8 steps, worst offset from due time \(worst / 1000) µs; lateness_us \(steps.map { $0["lateness_us"] ?? "?" })")

        // The traffic: 100 ms lag in [200, 700), nothing through in [900, 1200), clean elsewhere
        // (each window shrunk by 30 ms at its edges, and a lag window by one round trip at its end).
        func sent(from: Int64, to: Int64) -> [Ping] {
            pings.filter { $0.sentAt >= start + from * 1_000_000 && $0.sentAt < start + to * 1_000_000 }
        }
        for base: Int64 in [0, 1600] {
            let lagged = sent(from: base + 230, to: base + 570)
            XCTAssertGreaterThanOrEqual(lagged.count, 2)
            for ping in lagged {
                XCTAssertGreaterThanOrEqual(ping.roundTrip ?? 0, 95_000_000, "a ping in the lag window at +\(base)ms came back in \(ping.roundTrip.map { "\($0 / 1000) µs" } ?? "never")")
            }
            let cut = sent(from: base + 930, to: base + 1170)
            XCTAssertGreaterThanOrEqual(cut.count, 1)
            XCTAssertTrue(cut.allSatisfy { $0.roundTrip == nil }, "pings across the cut at +\(base)ms came back: \(cut)")
            let clean = sent(from: base + 730, to: base + 870) + sent(from: base + 1230, to: base + 1570)
            XCTAssertGreaterThanOrEqual(clean.count, 5)
            for ping in clean {
                XCTAssertLessThan(ping.roundTrip ?? .max, 50_000_000, "a ping outside the fault windows at +\(base)ms")
            }
        }
        XCTAssertTrue(daemon.daemon.isRunning)
    }

    /// Pause holds the schedule clock; stop clears what the schedule applied.
    func testPauseResumeAndStopThroughTheAPI() throws {
        let daemon = try ControlledDaemon(configJSON: """
            {"version": 1, "seed": 7, "control": {"unix_socket": "@CONTROL@"},
             "routes": [{"name": "r", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9", "from": "a", "to": "b"}],
             "schedule": {"steps": [
               {"at": "0s", "apply": {"id": "iso", "type": "partition", "kind": "isolate", "node": "a"}},
               {"at": "400ms", "apply": {"id": "lag", "type": "latency", "delay": "1ms"}}
             ]}}
            """)
        let running = try daemon.call("GET", "/v1/schedule")
        XCTAssertEqual(running["state"] as? String, "running")
        XCTAssertEqual(running["applied"] as? [String], ["iso"])
        XCTAssertEqual(try daemon.call("POST", "/v1/schedule/pause")["state"] as? String, "paused")
        usleep(600_000)
        XCTAssertEqual(try daemon.call("GET", "/v1/faults/lag", expect: 404).count, 1, "nothing runs while paused")
        XCTAssertEqual(try daemon.call("POST", "/v1/schedule/resume")["state"] as? String, "running")
        let deadline = Deadline(after: .seconds(3))
        while try daemon.call("GET", "/v1/schedule")["state"] as? String != "finished" && !deadline.hasPassed { usleep(20_000) }
        XCTAssertEqual(try daemon.call("GET", "/v1/schedule")["applied"] as? [String], ["iso", "lag"])
        try daemon.call("PUT", "/v1/schedule", #"{"steps": [{"at": "1s", "clear": "lag"}]}"#, expect: 200)  // finished: replaceable
        XCTAssertEqual(try daemon.call("PUT", "/v1/schedule", #"{"steps": [{"at": "1s", "clear": "lag"}]}"#, expect: 409).count, 1)
        let stopped = try daemon.call("POST", "/v1/schedule/stop")
        XCTAssertEqual(stopped["state"] as? String, "stopped")
        XCTAssertEqual((try daemon.call("GET", "/v1/faults")["faults"] as? [Any])?.count, 0, "stop cleared what both schedules applied")
        let healed = try daemon.journal().filter { $0["event"] as? String == "partition.healed" }
        XCTAssertEqual(healed.first?["reason"] as? String, "schedule_stop")
    }
}

/// CLOCK_REALTIME in nanoseconds (the journal's clock).
private func realtimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// A journal event's `ts` (`2026-11-25T17:11:51.823941Z`) in nanoseconds since 1970.
private func timestamp(_ event: [String: Any]) -> Int64? {
    guard let text = event["ts"] as? String else { return nil }
    let parts = text.split { !$0.isNumber }.map { Int($0) ?? 0 }
    guard parts.count == 7 else { return nil }
    var tm = Glibc.tm()
    tm.tm_year = Int32(parts[0] - 1900)
    tm.tm_mon = Int32(parts[1] - 1)
    tm.tm_mday = Int32(parts[2])
    tm.tm_hour = Int32(parts[3])
    tm.tm_min = Int32(parts[4])
    tm.tm_sec = Int32(parts[5])
    return Int64(timegm(&tm)) * 1_000_000_000 + Int64(parts[6]) * 1000
}
