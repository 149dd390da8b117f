import FaultlineCore
import Testing

@Suite("Which open connections a plan change re-plans at once")
struct ReplanScopeTests {
    private let latency = FaultSpec(id: "lat", routes: .all, kind: .latency(delay: .milliseconds(5), jitter: .zero, distribution: .uniform))
    private let blackhole = FaultSpec(id: "bh", routes: .all, kind: .blackhole)

    @Test("the same faults and seed change nothing; a seed change re-plans")
    func unchanged() {
        #expect(ReplanScope(old: [latency], new: [latency], seedChanged: false) == .unchanged)
        #expect(ReplanScope(old: [], new: [], seedChanged: false) == .unchanged)
        #expect(ReplanScope(old: [latency], new: [latency], seedChanged: true) == .deferrable)
        // A route the old plan did not run is new: its connections (none yet) follow the new faults.
        #expect(ReplanScope(old: nil, new: [], seedChanged: false) == .deferrable)
    }

    @Test("faults that act on bytes may wait for the next event; a clear may too")
    func deferrable() {
        #expect(ReplanScope(old: [], new: [latency], seedChanged: false) == .deferrable)
        #expect(ReplanScope(old: [latency], new: [latency, blackhole], seedChanged: false) == .deferrable)
        #expect(ReplanScope(old: [latency, blackhole], new: [], seedChanged: false) == .deferrable)
        let byteFaults: [FaultKind] = [
            .bandwidth(bytesPerSecond: 1000), .slicer(averageSize: 10, sizeVariation: 0, delay: .zero), .stall,
            .limitData(bytes: 10), .slowClose(delay: .seconds(1)), .connectDelay(.seconds(1)), .corrupt(bitFlipRate: 0.1),
        ]
        for kind in byteFaults {
            #expect(!ReplanScope.actsWithoutTraffic(FaultSpec(id: "f", routes: .all, kind: kind)), "\(kind)")
        }
    }

    @Test("a reset or timeout timer, a refusal and a partition reach every connection at once")
    func everyConnection() {
        let kinds: [FaultKind] = [
            .reset(after: .zero, afterBytes: nil), .reset(after: .seconds(1), afterBytes: 100), .timeout(.seconds(1)),
            .refuse(existing: .reset), .refuse(existing: .keep),
            .partition(PartitionFault(rule: .groups([["n1"], ["n2"]]))),
            .partition(PartitionFault(rule: .groups([["n1"], ["n2"]]), mode: .reset)),
        ]
        for kind in kinds {
            let fault = FaultSpec(id: "f", routes: .all, kind: kind)
            #expect(ReplanScope.actsWithoutTraffic(fault), "\(kind)")
            #expect(ReplanScope(old: [latency], new: [latency, fault], seedChanged: false) == .everyConnection)
        }
    }
}
