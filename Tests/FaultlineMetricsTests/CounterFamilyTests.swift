import Glibc
import Synchronization
import Testing
@testable import FaultlineMetrics

@Suite("CounterFamily")
struct CounterFamilyTests {
    private func render(_ family: CounterFamily) -> String {
        var output = ""
        family.emit(into: &output)
        return output
    }

    @Test("a label set leaves the exposition when its last worker drops its shard, and comes back from zero")
    func removedShards() {
        let bytes = CounterFamily(name: "faultline_bytes_total", help: "Bytes relayed.", labelNames: ["route", "direction"])
        bytes.shard(labels: ["gone", "upstream"], worker: 0).add(5)
        bytes.shard(labels: ["gone", "upstream"], worker: 1).add(6)
        bytes.shard(labels: ["kept", "upstream"], worker: 0).add(7)
        bytes.removeShards(worker: 0) { $0[0] == "gone" }
        #expect(bytes.total(labels: ["gone", "upstream"]) == 6, "worker 1's shard is still there")
        bytes.removeShards(worker: 1) { $0[0] == "gone" }
        #expect(bytes.total(labels: ["gone", "upstream"]) == nil)
        #expect(bytes.samples().map(\.labelValues) == [["kept", "upstream"]])
        bytes.shard(labels: ["gone", "upstream"], worker: 0).add(1)
        #expect(bytes.total(labels: ["gone", "upstream"]) == 1)
    }

    @Test("shards of two workers are summed into one line per label set")
    func shardsAreSummed() {
        let bytes = CounterFamily(
            name: "faultline_bytes_total",
            help: "Bytes relayed.",
            labelNames: ["route", "direction"]
        )
        bytes.shard(labels: ["api", "upstream"], worker: 0).add(100)
        bytes.shard(labels: ["api", "upstream"], worker: 1).add(23)
        bytes.shard(labels: ["api", "downstream"], worker: 1).add(7)

        #expect(render(bytes) == """
            # HELP faultline_bytes_total Bytes relayed.
            # TYPE faultline_bytes_total counter
            faultline_bytes_total{route="api",direction="downstream"} 7
            faultline_bytes_total{route="api",direction="upstream"} 123

            """)
    }

    @Test("the same label set and worker get the same shard; another worker gets its own")
    func shardIdentity() {
        let family = CounterFamily(name: "c_total", help: "h", labelNames: ["route"])
        let first = family.shard(labels: ["api"], worker: 0)
        #expect(family.shard(labels: ["api"], worker: 0) === first)
        #expect(family.shard(labels: ["api"], worker: 1) !== first)
        #expect(family.shard(labels: ["web"], worker: 0) !== first)
    }

    @Test("an unlabelled counter renders without braces, and 0 before any increment")
    func unlabelled() {
        let steps = CounterFamily(name: "faultline_schedule_steps_total", help: "Schedule steps run.")
        let shard = steps.shard(labels: [], worker: 0)
        #expect(render(steps) == """
            # HELP faultline_schedule_steps_total Schedule steps run.
            # TYPE faultline_schedule_steps_total counter
            faultline_schedule_steps_total 0

            """)
        shard.increment()
        #expect(render(steps).hasSuffix("\nfaultline_schedule_steps_total 1\n"))
    }

    @Test("label sets are printed sorted by label values, not in creation order")
    func labelSetsAreSorted() {
        let family = CounterFamily(name: "c_total", help: "h", labelNames: ["route", "code"])
        for (route, code) in [("web", "500"), ("api", "503"), ("db", "200"), ("api", "200")] {
            family.shard(labels: [route, code], worker: 0).increment()
        }
        #expect(render(family) == """
            # HELP c_total h
            # TYPE c_total counter
            c_total{route="api",code="200"} 1
            c_total{route="api",code="503"} 1
            c_total{route="db",code="200"} 1
            c_total{route="web",code="500"} 1

            """)
    }

    @Test("a label set keeps its count after its route is gone, and resumes when it returns")
    func countsSurviveRouteRemoval() {
        let family = CounterFamily(name: "faultline_connections_accepted_total", help: "h", labelNames: ["route"])
        do {
            // The plan that held this shard is discarded when the route is deleted.
            let shard = family.shard(labels: ["api"], worker: 0)
            shard.add(5)
        }
        #expect(render(family).hasSuffix("\nfaultline_connections_accepted_total{route=\"api\"} 5\n"))

        family.shard(labels: ["api"], worker: 0).add(2)
        #expect(family.total(labels: ["api"]) == 7)
        #expect(family.total(labels: ["web"]) == nil)
    }

    @Test("a shared shard is summed with the per-worker shards")
    func sharedShardIsSummed() {
        let family = CounterFamily(name: "faultline_fault_injections_total", help: "h", labelNames: ["route"])
        family.shard(labels: ["api"], worker: 0).add(3)
        family.sharedShard(labels: ["api"]).add(4)
        #expect(family.sharedShard(labels: ["api"]) === family.sharedShard(labels: ["api"]))
        family.sharedShard(labels: ["web"]).increment()
        #expect(render(family) == """
            # HELP faultline_fault_injections_total h
            # TYPE faultline_fault_injections_total counter
            faultline_fault_injections_total{route="api"} 7
            faultline_fault_injections_total{route="web"} 1

            """)
    }

    @Test("totals beyond 2^53 are printed exactly, as integers")
    func largeTotalsAreExact() {
        let family = CounterFamily(name: "c_total", help: "h")
        family.shard(labels: [], worker: 0).add(UInt64.max / 2)
        family.shard(labels: [], worker: 1).add(UInt64.max / 2)
        #expect(render(family).hasSuffix("\nc_total 18446744073709551614\n"))
    }

    @Test("2 worker threads × 1,000,000 increments on their own shards sum exactly, while scrapes stay monotonic")
    func concurrentWorkersSumExactly() {
        let family = CounterFamily(name: "c_total", help: "h", labelNames: ["route"])
        let shards = [family.shard(labels: ["api"], worker: 0), family.shard(labels: ["api"], worker: 1)]
        let scrapesWentBackwards = Atomic<Bool>(false)
        let scrapes = Atomic<Int>(0)
        let workersDone = Atomic<Int>(0)
        runOnThreads(count: 3) { index in
            if index < 2 {
                for _ in 0..<1_000_000 {
                    shards[index].increment()
                }
                workersDone.wrappingAdd(1, ordering: .releasing)
            } else {
                // A scraper on a third thread: totals it sees must never decrease. It naps
                // between scrapes so that the two workers, not it, occupy the two cores.
                var last: UInt64 = 0
                while workersDone.load(ordering: .acquiring) < 2 {
                    let total = family.total(labels: ["api"]) ?? 0
                    if total < last { scrapesWentBackwards.store(true, ordering: .relaxed) }
                    last = total
                    scrapes.wrappingAdd(1, ordering: .relaxed)
                    usleep(200)
                }
            }
        }
        #expect(family.total(labels: ["api"]) == 2_000_000)
        #expect(scrapesWentBackwards.load(ordering: .relaxed) == false)
        #expect(scrapes.load(ordering: .relaxed) > 0)
        var output = ""
        family.emit(into: &output)
        #expect(output.hasSuffix("\nc_total{route=\"api\"} 2000000\n"))
    }

    @Test("a label set given the wrong number of values traps")
    func wrongLabelCountTraps() async {
        await #expect(processExitsWith: .failure) {
            let family = CounterFamily(name: "c_total", help: "h", labelNames: ["route", "direction"])
            _ = family.shard(labels: ["api"], worker: 0)
        }
    }

    @Test("an invalid metric or label name traps")
    func invalidNamesTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = CounterFamily(name: "bytes-total", help: "h")
        }
        await #expect(processExitsWith: .failure) {
            _ = CounterFamily(name: "c_total", help: "h", labelNames: ["__reserved"])
        }
        await #expect(processExitsWith: .failure) {
            _ = CounterFamily(name: "c_total", help: "h", labelNames: ["route", "route"])
        }
    }
}
