import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// `probability` on real connections, and the injection counter against the journal.
final class FaultProbabilityTests: DaemonTestCase {
    /// What one connection of a `refuse` route saw: refused (reset) or echoed.
    private func isRefused(_ route: Endpoint, index: Int) throws -> Bool {
        guard let client = try TestSocket.connectUnlessReset(to: route) else { return true }
        var sendFailure: TestSocketError?
        do {
            try client.send([UInt8(index & 0xFF)])
        } catch {
            sendFailure = error
        }
        if let sendFailure {
            // The RST may beat the send.
            XCTAssertTrue(sendFailure.isConnectionReset || sendFailure == .system(call: "send", errno: EPIPE), "\(sendFailure)")
            return true
        }
        switch client.read(timeout: .seconds(3)) {
        case .data(let bytes):
            XCTAssertEqual(bytes, [UInt8(index & 0xFF)])
            return false
        case .reset:
            return true
        case let other:
            XCTFail("connection \(index): \(other)")
            return false
        }
    }

    /// refuse with probability 0.5 over 200 sequential connections: 35–65 % are refused; the
    /// refused serials are exactly the journal's `fault.injected` conns and the seeded draws, and
    /// `faultline_fault_injections_total` equals their number.
    func testProbabilityHalfRefusesAboutHalfAndCountsExactly() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"coin","route":"r","type":"refuse","probability":0.5}"#],
            seed: 1234)
        let route = try daemon.route("r")
        var refused: [Int] = []
        let (_, seconds) = try timed {
            for index in 0..<200 where try isRefused(route, index: index) { refused.append(index) }
        }
        let share = Double(refused.count) / 200
        XCTAssertGreaterThanOrEqual(share, 0.35, "\(refused.count) of 200 refused")
        XCTAssertLessThanOrEqual(share, 0.65, "\(refused.count) of 200 refused")
        XCTAssertEqual(echo.stats.accepted, 200 - refused.count, "refused connections reached the upstream")

        let spec = FaultSpec(id: "coin", probability: 0.5, kind: .refuse(existing: .keep))
        let drawn = (0..<200).filter { PolicyCompiler.draws(spec, seed: 1234, serial: UInt64($0), flow: nil) }
        XCTAssertEqual(refused, drawn, "refused serials differ from the seeded draws")

        let injections = try daemon.injections(fault: "coin")
        XCTAssertEqual(injections.map(\.conn), refused)
        XCTAssertTrue(injections.allSatisfy { $0.direction == nil && $0.type == "refuse" && $0.route == "r" })
        let counted = try daemon.metric("faultline_fault_injections_total", ["route": "r", "fault": "coin", "type": "refuse"])
        XCTAssertEqual(counted, Double(injections.count))
        print("[fault] probability 0.5: \(refused.count)/200 refused (\(String(format: "%.1f", seconds)) s); journal \(injections.count), metric \(counted ?? -1)")
    }

    /// A stream fault on both directions with probability 0.5 binds per (connection, direction):
    /// the counter equals the `fault.injected` events, which carry their direction, and matches
    /// the seeded draws. Also for a fault applied at runtime to open connections.
    func testInjectionCounterEqualsJournaledBindings() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [#"{"id":"lag","route":"r","type":"latency","delay":"1ms","probability":0.5}"#],
            seed: 99)
        let route = try daemon.route("r")
        for index in 0..<30 { try assertEchoes(route, bytes: [UInt8(index)]) }

        // Runtime fault on 5 open connections (serials 30…34), then 5 new ones (35…39).
        let open = try (0..<5).map { _ in try TestSocket.connect(to: route) }
        for socket in open {
            try socket.send([1])
            _ = try socket.read(exactly: 1)
        }
        try daemon.apply(#"{"id":"thin","route":"r","type":"bandwidth","bytes_per_second":100000,"probability":0.5}"#)
        for index in 0..<5 { try assertEchoes(route, bytes: [UInt8(index)]) }

        func expected(_ id: String, _ kind: FaultKind, serials: Range<Int>) -> [Injection] {
            let spec = FaultSpec(id: id, probability: 0.5, kind: kind)
            return serials.flatMap { serial in
                Flow.allCases.compactMap { flow in
                    PolicyCompiler.draws(spec, seed: 99, serial: UInt64(serial), flow: flow)
                        ? Injection(route: "r", fault: id, type: kind.typeName, conn: serial, direction: flow.label) : nil
                }
            }
        }
        let lag = try daemon.injections(fault: "lag")
        // Open connections are re-planned on two workers at once: their events may interleave.
        let thin = try daemon.injections(fault: "thin").sorted { ($0.conn, $0.direction ?? "") < ($1.conn, $1.direction ?? "") }
        XCTAssertEqual(lag, expected("lag", .latency(delay: .milliseconds(1), jitter: .zero, distribution: .uniform), serials: 0..<40))
        XCTAssertEqual(thin, expected("thin", .bandwidth(bytesPerSecond: 100_000), serials: 30..<40))
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "r", "fault": "lag", "type": "latency"]),
                       Double(lag.count))
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "r", "fault": "thin", "type": "bandwidth"]),
                       Double(thin.count))
        XCTAssertGreaterThan(lag.count, 20, "too few bindings to mean anything")
        print("[fault] injections: lag \(lag.count) bindings over 40 connections, thin \(thin.count) over 10")
    }
}
