import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Synchronization
import XCTest

/// Applying and clearing faults at a high rate must not disturb traffic: an unfaulted route stays
/// byte-exact, and the churned route loses nothing to faults that promise not to lose bytes.
final class FaultChurnTests: DaemonTestCase {
    private final class Load: Sendable {
        let stop = Atomic<Bool>(false)
        let results = Mutex<[EchoLoad.Result]>([])
        let rounds = Atomic<Int>(0)
    }

    /// Rounds of `EchoLoad` (4 connections, up to 2 MiB each) against `endpoint` until stopped.
    private func startLoad(_ endpoint: Endpoint, seed: UInt64, _ load: Load) -> ThreadHandle {
        Threads.spawn(name: "churn-load") {
            var round: UInt64 = 0
            while !load.stop.load(ordering: .acquiring) {
                let sizes = EchoLoad.sizes(count: 4, maxBytes: 2 << 20, seed: seed &+ round)
                let results = EchoLoad.run(to: endpoint, sizes: sizes, seed: seed &+ round, threads: 1, timeout: .seconds(60))
                load.results.withLock { $0 += results }
                load.rounds.wrappingAdd(1, ordering: .relaxed)
                round += 1
            }
        }
    }

    /// 1,000 apply/clear cycles on route A (latency, stall, bandwidth, slicer in turn) while both
    /// routes carry echo load: every echo on B and on A is byte-exact (SHA-256 both ends).
    func testThousandApplyClearCyclesUnderLoad() throws {
        let echo = try EchoServer()
        let daemon = try FaultDaemon(routes: [("a", echo.endpoint), ("b", echo.endpoint)])
        let routeA = try daemon.route("a")
        let routeB = try daemon.route("b")
        let loadA = Load()
        let loadB = Load()
        let threadA = startLoad(routeA, seed: 1000, loadA)
        let threadB = startLoad(routeB, seed: 2000, loadB)
        defer {
            loadA.stop.store(true, ordering: .releasing)
            loadB.stop.store(true, ordering: .releasing)
        }

        let faults = [
            #"{"id":"churn","route":"a","type":"latency","delay":"2ms","jitter":"1ms"}"#,
            #"{"id":"churn","route":"a","type":"stall","direction":"upstream"}"#,
            #"{"id":"churn","route":"a","type":"bandwidth","bytes_per_second":2000000}"#,
            #"{"id":"churn","route":"a","type":"slicer","average_size":4096,"size_variation":1024}"#,
        ]
        // A cleared fault's injection series leaves /metrics, so bindings are read while the
        // fault is in force, on every 10th cycle.
        var boundOnA = 0.0
        let (_, churnSeconds) = try timed {
            for cycle in 0..<1000 {
                let type = ["latency", "stall", "bandwidth", "slicer"][cycle % faults.count]
                try daemon.apply(faults[cycle % faults.count])
                if cycle % 10 == 9 {
                    boundOnA += try daemon.metric("faultline_fault_injections_total", ["route": "a", "fault": "churn", "type": type]) ?? 0
                    XCTAssertNil(try daemon.metric("faultline_fault_injections_total", ["route": "b", "fault": "churn", "type": type]))
                }
                try daemon.clear("churn")
            }
        }
        loadA.stop.store(true, ordering: .releasing)
        loadB.stop.store(true, ordering: .releasing)
        threadA.join()
        threadB.join()

        for (name, load) in [("a", loadA), ("b", loadB)] {
            let results = load.results.withLock { $0 }
            let failures = results.filter { !$0.isExact }
            XCTAssertEqual(failures.count, 0, "route \(name): first failures \(failures.prefix(3))")
            XCTAssertGreaterThanOrEqual(load.rounds.load(ordering: .relaxed), 1, "route \(name) carried no load")
            let bytes = results.reduce(0) { $0 + $1.bytesReceived }
            print("[fault] churn: route \(name) \(results.count) connections, \(bytes) bytes echoed byte-exact")
        }
        // The faults really met live connections on A, and never touched B.
        XCTAssertGreaterThan(boundOnA, 10, "the churned faults were hardly ever bound to A's connections (100 cycles sampled)")
        for type in ["latency", "stall", "bandwidth", "slicer"] {
            XCTAssertNil(try daemon.metric("faultline_fault_injections_total", ["route": "a", "fault": "churn", "type": type]),
                         "a cleared fault's series is gone")
        }
        XCTAssertLessThan(churnSeconds, 90, "1,000 apply/clear cycles took \(churnSeconds) s")
        XCTAssertEqual(try daemon.control.expect(200, "GET", "/v1/faults").text, #"{"faults":[]}"# + "\n")
        try assertEchoes(routeA, bytes: randomBytes(100_000, seed: 1))
        try assertEchoes(routeB, bytes: randomBytes(100_000, seed: 2))
        print("[fault] churn: 1000 apply/clear cycles in \(String(format: "%.1f", churnSeconds)) s, \(Int(boundOnA)) bindings on A in 100 sampled cycles")
    }
}
