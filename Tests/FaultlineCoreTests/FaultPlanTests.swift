import FaultlineCore
import Testing

@Suite("FaultPlan routing")
struct FaultPlanTests {
    private func route(_ name: String, _ port: UInt16) -> RouteSpec {
        RouteSpec(name: name, listen: Endpoint(address: .v4(127, 0, 0, 1), port: port),
                  upstream: UpstreamAddress(Endpoint(address: .v4(127, 0, 0, 1), port: port + 1000)))
    }

    @Test("Each route gets exactly the faults whose selector names it, in applied order")
    func filtering() {
        let faults = [
            FaultSpec(id: "every", routes: .all, kind: .stall),
            FaultSpec(id: "onlyB", routes: .names(["b"]), kind: .blackhole),
            FaultSpec(id: "aAndC", routes: .names(["a", "c"]), kind: .timeout(.seconds(1))),
            FaultSpec(id: "nobody", routes: .names(["zzz"]), kind: .stall),
            FaultSpec(id: "none", routes: .names([]), kind: .stall),
            FaultSpec(id: "last", routes: .all, kind: .corrupt(bitFlipRate: 0.5)),
        ]
        let plan = FaultPlan(version: 3, seed: 99, limits: .defaults, routes: [route("a", 1), route("b", 2), route("c", 3)],
                             faults: faults)
        #expect(plan.routes.map(\.spec.name) == ["a", "b", "c"])
        #expect(plan.route(named: "a")?.faults.map(\.id) == ["every", "aAndC", "last"])
        #expect(plan.route(named: "b")?.faults.map(\.id) == ["every", "onlyB", "last"])
        #expect(plan.route(named: "c")?.faults.map(\.id) == ["every", "aAndC", "last"])
        #expect(plan.route(named: "zzz") == nil)
        #expect(plan.route(named: "b")?.spec == route("b", 2))
        #expect(plan.version == 3 && plan.seed == 99)
    }

    @Test("Selectors match names exactly")
    func selectors() {
        #expect(RouteSelector.all.matches("anything"))
        #expect(RouteSelector.names(["api"]).matches("api"))
        #expect(!RouteSelector.names(["api"]).matches("API"))
        #expect(!RouteSelector.names(["api"]).matches("api2"))
        #expect(!RouteSelector.names(["api"]).matches("*"))
        #expect(!RouteSelector.names([]).matches("api"))
    }

    @Test("Direction covers flows")
    func directions() {
        #expect(Direction.both.covers(.upstream) && Direction.both.covers(.downstream))
        #expect(Direction.upstream.covers(.upstream) && !Direction.upstream.covers(.downstream))
        #expect(Direction.downstream.covers(.downstream) && !Direction.downstream.covers(.upstream))
        #expect(Flow.upstream.label == "upstream" && Flow.downstream.label == "downstream")
    }

    @Test("Byte-stream type names match SPEC §3.1")
    func typeNames() {
        let kinds: [FaultKind] = [
            .latency(delay: .zero, jitter: .zero, distribution: .normal), .bandwidth(bytesPerSecond: 1),
            .slicer(averageSize: 1, sizeVariation: 0, delay: .zero), .blackhole, .stall,
            .reset(after: .zero, afterBytes: nil), .timeout(.zero), .limitData(bytes: 1), .slowClose(delay: .zero),
            .refuse(existing: .keep), .connectDelay(.zero), .corrupt(bitFlipRate: 0),
        ]
        #expect(kinds.map(\.typeName) == [
            "latency", "bandwidth", "slicer", "blackhole", "stall", "reset", "timeout", "limit_data",
            "slow_close", "refuse", "connect_delay", "corrupt",
        ])
        #expect(kinds.allSatisfy { FaultKind.typeNames.contains($0.typeName) })
    }
}
