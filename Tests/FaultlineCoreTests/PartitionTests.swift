import FaultlineCore
import Testing

@Suite("Partitions: which links block, generators, links-blocked count")
struct PartitionTests {
    private let five = ["n1", "n2", "n3", "n4", "n5"]

    private func route(
        _ name: String, _ port: UInt16, from: String? = nil, to: String? = nil, enabled: Bool = true
    ) -> RouteSpec {
        RouteSpec(name: name, listen: Endpoint(address: .v4(127, 0, 0, 1), port: port),
                  upstream: UpstreamAddress(Endpoint(address: .v4(127, 0, 0, 1), port: port + 1000)),
                  from: from, to: to, enabled: enabled)
    }

    private func partition(_ rule: PartitionFault.Rule, id: String = "p", oneWay: Bool = false, mode: PartitionMode = .blackhole) -> FaultSpec {
        FaultSpec(id: id, kind: .partition(PartitionFault(rule: rule, mode: mode, oneWay: oneWay)))
    }

    /// Every (from, to) pair over `nodes` that `fault` blocks, with the directions.
    private func blockedLinks(_ fault: PartitionFault, _ nodes: [String]) -> [String: Direction] {
        var out: [String: Direction] = [:]
        for from in nodes {
            for to in nodes where to != from {
                if let direction = fault.blocks(from: from, to: to) { out["\(from)>\(to)"] = direction }
            }
        }
        return out
    }

    // MARK: Given groups

    @Test("Groups block every link across them, both ways; links inside a group and unnamed nodes are untouched")
    func groupsBlockAcross() {
        let cut = Partition(groups: [["n1"], ["n2", "n3"]])
        #expect(cut.blocks(from: "n1", to: "n2") == .both)
        #expect(cut.blocks(from: "n3", to: "n1") == .both)
        #expect(cut.blocks(from: "n2", to: "n3") == nil)
        #expect(cut.blocks(from: "n1", to: "n1") == nil)
        #expect(cut.blocks(from: "n1", to: "n9") == nil)
        #expect(cut.blocks(from: "n9", to: "n2") == nil)
        #expect(cut.blocks(from: nil, to: "n2") == nil)
        #expect(cut.blocks(from: "n1", to: nil) == nil)
        #expect(cut.group(of: "n3") == 1)
        #expect(cut.group(of: "n9") == nil)
    }

    @Test("One way blocks only traffic leaving groups[0]: upstream bytes on routes from it, downstream bytes on routes into it")
    func oneWay() {
        let cut = PartitionFault(rule: .groups([["n1"], ["n2"], ["n3"]]), oneWay: true)
        #expect(blockedLinks(cut, ["n1", "n2", "n3"]) == [
            "n1>n2": .upstream, "n1>n3": .upstream,      // n1 calling out: its requests are dropped
            "n2>n1": .downstream, "n3>n1": .downstream,  // others calling n1: n1's answers are dropped
            // n2 ↔ n3 lie in different groups but neither is groups[0]: untouched.
        ])
    }

    @Test("A fault with several group sets blocks the union of what each set blocks")
    func unionOfSets() {
        let fault = PartitionFault(rule: .generator(.ring), resolved: [[["a"], ["c"]], [["a"], ["d"]]])
        #expect(blockedLinks(fault, ["a", "b", "c", "d"]) == ["a>c": .both, "c>a": .both, "a>d": .both, "d>a": .both])
        let unresolved = PartitionFault(rule: .generator(.ring))
        #expect(unresolved.resolved == nil)
        #expect(unresolved.blocks(from: "a", to: "c") == nil, "an unresolved generator blocks nothing")
    }

    @Test("Given groups are their own resolution; resolving them is a no-op")
    func groupsAreResolved() {
        let fault = PartitionFault(rule: .groups([["a"], ["b"]]))
        #expect(fault.resolved == [[["a"], ["b"]]])
        #expect(fault.resolving(nodes: ["x", "y"], seed: 1, faultID: "f") == fault)
    }

    // MARK: Generators, seed 42 over five nodes

    @Test("isolate: the named node against all the others")
    func isolate() {
        #expect(PartitionGenerator.isolate(node: "n3").resolve(nodes: five, seed: 42, faultID: "f")
            == [[["n3"], ["n1", "n2", "n4", "n5"]]])
        // The result depends on the node set, not on the order it was given in (or duplicates).
        #expect(PartitionGenerator.isolate(node: "n3").resolve(nodes: ["n5", "n3", "n1", "n2", "n4", "n1"], seed: 7, faultID: "g")
            == [[["n3"], ["n1", "n2", "n4", "n5"]]])
    }

    @Test("random_node: one node drawn from the seed against the rest; same seed and id, same node")
    func randomNode() {
        let resolved = PartitionGenerator.randomNode.resolve(nodes: five, seed: 42, faultID: "f")
        #expect(resolved == [[["n3"], ["n1", "n2", "n4", "n5"]]])
        #expect(PartitionGenerator.randomNode.resolve(nodes: five.reversed(), seed: 42, faultID: "f") == resolved)
        // Over many seeds every node gets picked: the draw is not stuck.
        let picked = Set((0..<64).map { PartitionGenerator.randomNode.resolve(nodes: five, seed: $0, faultID: "f")[0][0][0] })
        #expect(picked == Set(five))
        #expect(PartitionGenerator.randomNode.resolve(nodes: [], seed: 1, faultID: "f") == [])
    }

    @Test("random_halves: a seeded shuffle cut into halves (smaller first), each half sorted")
    func randomHalves() {
        let resolved = PartitionGenerator.randomHalves.resolve(nodes: five, seed: 42, faultID: "f")
        #expect(resolved == [[["n2", "n5"], ["n1", "n3", "n4"]]])
        #expect(PartitionGenerator.randomHalves.resolve(nodes: ["n1", "n2", "n3"], seed: 42, faultID: "f") == [[["n2"], ["n1", "n3"]]])
        let splits = Set((0..<64).map { PartitionGenerator.randomHalves.resolve(nodes: five, seed: $0, faultID: "f")[0][0] })
        #expect(splits.count == 10, "every 2-of-5 subset shows up over 64 seeds; got \(splits.count)")
    }

    @Test("bridge: two halves that cannot talk and one node, in neither group, that talks to both")
    func bridge() {
        let resolved = PartitionGenerator.bridge.resolve(nodes: five, seed: 42, faultID: "f")
        #expect(resolved == [[["n2", "n4"], ["n1", "n3"]]])
        let fault = PartitionFault(rule: .generator(.bridge)).resolving(nodes: five, seed: 42, faultID: "f")
        let links = blockedLinks(fault, five)
        #expect(links.keys.sorted() == ["n1>n2", "n1>n4", "n2>n1", "n2>n3", "n3>n2", "n3>n4", "n4>n1", "n4>n3"])
        #expect(!links.keys.contains { $0.contains("n5") }, "n5 is the bridge")
        // Fewer than three nodes: no bridge is possible, one group, nothing blocked.
        #expect(PartitionGenerator.bridge.resolve(nodes: ["a", "b"], seed: 1, faultID: "f") == [[["a", "b"]]])
    }

    @Test("ring: each node sees only its two neighbours in a seeded ring order")
    func ring() {
        let resolved = PartitionGenerator.ring.resolve(nodes: five, seed: 42, faultID: "f")
        // The ring n1-n3-n5-n2-n4-n1: every other pair is cut.
        #expect(resolved == [[["n1"], ["n2"]], [["n1"], ["n5"]], [["n2"], ["n3"]], [["n3"], ["n4"]], [["n4"], ["n5"]]])
        let fault = PartitionFault(rule: .generator(.ring), resolved: resolved)
        for node in five {
            let reachable = five.filter { $0 != node && fault.blocks(from: node, to: $0) == nil }
            #expect(reachable.count == 2, "\(node) sees \(reachable)")
        }
        // With three nodes everyone is a neighbour.
        #expect(PartitionGenerator.ring.resolve(nodes: ["a", "b", "c"], seed: 1, faultID: "f") == [])
    }

    @Test("The seed and the fault id both key the draw; nothing else does")
    func seedKeysTheDraw() {
        let a = PartitionGenerator.randomHalves.resolve(nodes: five, seed: 42, faultID: "f")
        #expect(PartitionGenerator.randomHalves.resolve(nodes: five, seed: 42, faultID: "f") == a)
        let others = (0..<8).map { PartitionGenerator.randomHalves.resolve(nodes: five, seed: 42, faultID: "f\($0)") }
        #expect(others.contains { $0 != a })
    }

    @Test("A resolved generator is not re-resolved when the node set changes later")
    func resolutionSticks() {
        let fault = PartitionFault(rule: .generator(.randomNode)).resolving(nodes: ["a", "b"], seed: 3, faultID: "f")
        let again = fault.resolving(nodes: ["x", "y", "z"], seed: 99, faultID: "f")
        #expect(again == fault)
        // A plan keeps a stored resolution and resolves only what is unresolved.
        let plan = FaultPlan(
            version: 1, seed: 99, limits: .defaults, routes: [route("r", 1, from: "x", to: "y")],
            faults: [FaultSpec(id: "f", kind: .partition(fault)), partition(.generator(.isolate(node: "x")), id: "g")]
        )
        guard case .partition(let kept) = plan.routes[0].faults[0].kind,
              case .partition(let fresh) = plan.routes[0].faults[1].kind else {
            Issue.record("partitions missing from the plan")
            return
        }
        #expect(kept == fault)
        #expect(fresh.resolved == [[["x"], ["y"]]])
    }

    // MARK: Binding on connections

    @Test("Blackhole both ways holds the upstream connect; one way dials and drops only the blocked direction")
    func binding() {
        let both = PolicyCompiler.compile(
            faults: [partition(.groups([["n1"], ["n2"]]))], seed: 1, serial: 0, link: Link(from: "n1", to: "n2"))
        #expect(both.holdConnect?.faultID == "p")
        #expect(both.upstream.partitioned != nil && both.downstream.partitioned != nil)
        #expect(both.bindings.map(\.flow) == [.upstream, .downstream])

        let out = PolicyCompiler.compile(
            faults: [partition(.groups([["n1"], ["n2"]]), oneWay: true)], seed: 1, serial: 0, link: Link(from: "n1", to: "n2"))
        #expect(out.holdConnect == nil)
        #expect(out.upstream.partitioned?.faultID == "p")
        #expect(out.downstream.isEmpty)

        let into = PolicyCompiler.compile(
            faults: [partition(.groups([["n1"], ["n2"]]), oneWay: true)], seed: 1, serial: 0, link: Link(from: "n2", to: "n1"))
        #expect(into.holdConnect == nil)
        #expect(into.upstream.isEmpty)
        #expect(into.downstream.partitioned?.faultID == "p")

        let reset = PolicyCompiler.compile(
            faults: [partition(.groups([["n1"], ["n2"]]), mode: .reset)], seed: 1, serial: 0, link: Link(from: "n2", to: "n1"))
        #expect(reset.refuse == Bound("p", .reset))
        #expect(reset.upstream.isEmpty && reset.downstream.isEmpty)

        let untouched = PolicyCompiler.compile(
            faults: [partition(.groups([["n1"], ["n2"]]))], seed: 1, serial: 0, link: Link(from: nil, to: "n1"))
        #expect(untouched == ConnectionPolicy())
    }

    // MARK: faultline_partition_links_blocked

    /// The etcd hub: one route per member's peer port, callers learned from their addresses.
    private func hubPlan(_ faults: [FaultSpec], disabled: Set<String> = []) -> FaultPlan {
        FaultPlan(
            version: 1, seed: 7, limits: .defaults,
            routes: (1...3).map { route("n\($0)-peer", UInt16(12380 + $0), to: "n\($0)", enabled: !disabled.contains("n\($0)-peer")) },
            faults: faults,
            nodes: [
                "n1": [.v4(10, 77, 1, 2)], "n2": [.v4(10, 77, 2, 2)], "n3": [.v4(10, 77, 3, 2), .v4(10, 77, 3, 3)],
            ]
        )
    }

    @Test("Links blocked count each (caller, route) once per blocked direction")
    func linksBlockedHub() {
        #expect(hubPlan([]).partitionLinksBlocked == 0)
        // Isolating n1: n2 and n3 calling n1 (2 callers × 2 directions), n1 calling n2 and n3 (2 × 2).
        let isolate = partition(.generator(.isolate(node: "n1")))
        #expect(hubPlan([isolate]).partitionLinksBlocked == 8)
        // One way: only the direction leaving n1 on each of those four links.
        #expect(hubPlan([partition(.groups([["n1"], ["n2", "n3"]]), oneWay: true)]).partitionLinksBlocked == 4)
        // A disabled route carries nothing, so blocks nothing.
        #expect(hubPlan([isolate], disabled: ["n1-peer"]).partitionLinksBlocked == 4)
        // Two partitions blocking the same link count it once.
        #expect(hubPlan([isolate, partition(.groups([["n1"], ["n2"]]), id: "q")]).partitionLinksBlocked == 8)
        // Non-partition faults count nothing.
        #expect(hubPlan([FaultSpec(id: "s", kind: .stall)]).partitionLinksBlocked == 0)
    }

    @Test("Routes with from and to count their one caller; routes without a caller count nothing")
    func linksBlockedNamedRoutes() {
        let routes = [
            route("n1-n2", 1, from: "n1", to: "n2"), route("n2-n1", 2, from: "n2", to: "n1"),
            route("n2-n3", 3, from: "n2", to: "n3"), route("anon", 4, to: "n1"),
        ]
        let cut = partition(.groups([["n1"], ["n2", "n3"]]))
        #expect(FaultPlan(version: 1, seed: 1, limits: .defaults, routes: routes, faults: [cut]).partitionLinksBlocked == 4)
        let oneWay = partition(.groups([["n1"], ["n2", "n3"]]), oneWay: true)
        #expect(FaultPlan(version: 1, seed: 1, limits: .defaults, routes: routes, faults: [oneWay]).partitionLinksBlocked == 2)
        // A partition on named routes only counts those routes.
        var onlyOne = cut
        onlyOne.routes = .names(["n1-n2"])
        #expect(FaultPlan(version: 1, seed: 1, limits: .defaults, routes: routes, faults: [onlyOne]).partitionLinksBlocked == 2)
    }
}
