import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// SPEC §3 determinism on the real binary: the same config, seed and traffic give the same
/// per-connection fault decisions whatever the worker count; another seed gives others.
final class DeterminismTests: DaemonTestCase {
    /// The `fault.injected` sequence (conn, direction) of 60 sequential connections through a
    /// route with a probability-0.5 fault on both directions, and a probability-0.5 refuse.
    private func decisions(seed: UInt64, workers: Int) throws -> [String] {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(
            routes: [("r", echo.endpoint)],
            faults: [
                #"{"id":"lag","route":"r","type":"latency","delay":"1ms","probability":0.5}"#,
                #"{"id":"door","route":"r","type":"refuse","probability":0.3}"#,
            ],
            seed: seed, workers: workers)
        let route = try daemon.route("r")
        for index in 0..<60 {
            // One at a time: each connection is accepted (and its faults bound) before the next.
            guard let client = try TestSocket.connectUnlessReset(to: route) else { continue }
            do {
                try client.send([UInt8(index)])
            } catch {
                // Refused: the RST beat the send (which consumed the ECONNRESET).
                XCTAssertTrue(error.isConnectionReset || error == .system(call: "send", errno: EPIPE), "\(error)")
                continue
            }
            switch client.read(timeout: .seconds(3)) {
            case .data(let bytes): XCTAssertEqual(bytes, [UInt8(index)])
            case .reset: break
            case let other: XCTFail("connection \(index): \(other)")
            }
        }
        let injections = try daemon.injections()
        XCTAssertFalse(injections.isEmpty)
        return injections.map(\.description)
    }

    func testSameSeedSameDecisionsWithOneOrTwoWorkers() throws {
        let one = try decisions(seed: 42, workers: 1)
        let two = try decisions(seed: 42, workers: 2)
        let other = try decisions(seed: 43, workers: 2)
        XCTAssertEqual(one, two, "decisions depend on the worker count")
        XCTAssertNotEqual(one, other, "a different seed gave the same decisions")
        // Sanity: the draws really were mixed (not all or nothing).
        let lagBindings = one.filter { $0.hasPrefix("lag#") }.count
        XCTAssertTrue((30...90).contains(lagBindings), "\(lagBindings) latency bindings over 120 directions")
        print("[fault] determinism: \(one.count) decisions (workers 1) vs \(two.count) (workers 2), equal: \(one == two); seed 43 differs in \(zip(one, other).filter { $0 != $1 }.count + abs(one.count - other.count)) places")
    }
}
