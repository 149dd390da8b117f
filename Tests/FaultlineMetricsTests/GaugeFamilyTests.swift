import Testing
@testable import FaultlineMetrics

@Suite("GaugeFamily")
struct GaugeFamilyTests {
    private func render(_ family: GaugeFamily) -> String {
        var output = ""
        family.emit(into: &output)
        return output
    }

    @Test("shards of two workers are summed, including negative shards")
    func shardsAreSummed() {
        let active = GaugeFamily(name: "faultline_connections_active", help: "Open connections.", labelNames: ["route"])
        active.shard(labels: ["api"], worker: 0).add(5)
        active.shard(labels: ["api"], worker: 1).add(-2)
        active.shard(labels: ["web"], worker: 1).add(-3)
        #expect(render(active) == """
            # HELP faultline_connections_active Open connections.
            # TYPE faultline_connections_active gauge
            faultline_connections_active{route="api"} 3
            faultline_connections_active{route="web"} -3

            """)
    }

    @Test("a removed label set disappears and comes back from zero")
    func removal() {
        let active = GaugeFamily(name: "faultline_connections_active", help: "h", labelNames: ["route"])
        let api = active.shard(labels: ["api"], worker: 0)
        api.set(4)
        active.shard(labels: ["web"], worker: 0).set(1)

        #expect(active.remove(labels: ["api"]))
        #expect(active.remove(labels: ["api"]) == false)
        #expect(render(active) == """
            # HELP faultline_connections_active h
            # TYPE faultline_connections_active gauge
            faultline_connections_active{route="web"} 1

            """)

        // The old shard is no longer reported, even if a stale writer still touches it.
        api.increment()
        let fresh = active.shard(labels: ["api"], worker: 0)
        #expect(fresh !== api)
        #expect(active.total(labels: ["api"]) == 0)
    }

    @Test("removing every label set leaves HELP and TYPE")
    func emptyFamilyKeepsHeader() {
        let faults = GaugeFamily(name: "faultline_partition_links_blocked", help: "Blocked links.")
        faults.shard(labels: [], worker: 0).set(2)
        faults.remove(labels: [])
        #expect(render(faults) == """
            # HELP faultline_partition_links_blocked Blocked links.
            # TYPE faultline_partition_links_blocked gauge

            """)
    }
}
