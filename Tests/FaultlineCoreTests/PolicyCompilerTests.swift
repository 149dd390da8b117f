import FaultlineCore
import Testing

@Suite("PolicyCompiler.compile")
struct PolicyCompilerTests {
    private let latency = FaultKind.latency(delay: .milliseconds(100), jitter: .zero, distribution: .uniform)

    @Test("Direction decides which half-streams a fault binds to")
    func directions() {
        let up = PolicyCompiler.compile(
            faults: [FaultSpec(id: "u", direction: .upstream, kind: .bandwidth(bytesPerSecond: 1000))], seed: 1, serial: 0)
        #expect(up.upstream.bandwidth == Bound("u", 1000))
        #expect(up.downstream.isEmpty)
        #expect(up.bindings == [FaultBinding(faultID: "u", type: "bandwidth", flow: .upstream)])

        let down = PolicyCompiler.compile(
            faults: [FaultSpec(id: "d", direction: .downstream, kind: .stall)], seed: 1, serial: 0)
        #expect(down.upstream.isEmpty)
        #expect(down.downstream.stall == Bound("d", true))
        #expect(down.bindings == [FaultBinding(faultID: "d", type: "stall", flow: .downstream)])

        let both = PolicyCompiler.compile(faults: [FaultSpec(id: "b", kind: latency)], seed: 1, serial: 0)
        let expected = Bound("b", Latency(delay: .milliseconds(100), jitter: .zero, distribution: .uniform))
        #expect(both.upstream.latency == expected)
        #expect(both.downstream.latency == expected)
        #expect(both.stream(.upstream) == both.upstream && both.stream(.downstream) == both.downstream)
        #expect(both.bindings == [
            FaultBinding(faultID: "b", type: "latency", flow: .upstream),
            FaultBinding(faultID: "b", type: "latency", flow: .downstream),
        ])
        #expect(both.refuse == nil && both.connectDelay == nil)
    }

    @Test("Every stream kind lands in its own slot with its parameters")
    func kinds() {
        let faults = [
            FaultSpec(id: "sl", kind: .slicer(averageSize: 10, sizeVariation: 2, delay: .milliseconds(3))),
            FaultSpec(id: "bh", kind: .blackhole),
            FaultSpec(id: "rs", kind: .reset(after: .seconds(2), afterBytes: 100)),
            FaultSpec(id: "to", kind: .timeout(.seconds(9))),
            FaultSpec(id: "ld", kind: .limitData(bytes: 4096)),
            FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(1))),
            FaultSpec(id: "co", kind: .corrupt(bitFlipRate: 0.25)),
        ]
        let policy = PolicyCompiler.compile(faults: faults, seed: 0, serial: 0).upstream
        #expect(policy.slicer == Bound("sl", Slicer(averageSize: 10, sizeVariation: 2, delay: .milliseconds(3))))
        #expect(policy.blackhole == Bound("bh", true))
        #expect(policy.reset == Bound("rs", ResetTrigger(after: .seconds(2), afterBytes: 100)))
        #expect(policy.timeout == Bound("to", .seconds(9)))
        #expect(policy.limitData == Bound("ld", 4096))
        #expect(policy.slowClose == Bound("sc", .seconds(1)))
        #expect(policy.corrupt == Bound("co", 0.25))
        #expect(policy.latency == nil && policy.bandwidth == nil && policy.stall == nil)
    }

    @Test("Probability 0 never binds; 1 always binds")
    func probabilityEdges() {
        for serial in 0..<UInt64(500) {
            let never = PolicyCompiler.compile(
                faults: [FaultSpec(id: "n", probability: 0, kind: latency),
                         FaultSpec(id: "r", probability: 0, kind: .refuse(existing: .keep))],
                seed: 9, serial: serial)
            #expect(never == ConnectionPolicy())
            let always = PolicyCompiler.compile(
                faults: [FaultSpec(id: "a", probability: 1, kind: latency)], seed: 9, serial: serial)
            #expect(always.bindings.count == 2)
        }
    }

    @Test("Draws are a pure function of (seed, fault id, serial) and hit the probability (±4 %)")
    func probabilityDraws() {
        let fault = FaultSpec(id: "p30", probability: 0.3, kind: .blackhole)
        func pattern(seed: UInt64, fault: FaultSpec = fault) -> [(Bool, Bool)] {
            (0..<UInt64(1000)).map { serial in
                let policy = PolicyCompiler.compile(faults: [fault], seed: seed, serial: serial)
                return (policy.upstream.blackhole != nil, policy.downstream.blackhole != nil)
            }
        }
        let first = pattern(seed: 1)
        let again = pattern(seed: 1)
        #expect(first.map(\.0) == again.map(\.0) && first.map(\.1) == again.map(\.1))

        let upRate = Double(first.filter(\.0).count) / 1000
        let downRate = Double(first.filter(\.1).count) / 1000
        #expect(abs(upRate - 0.3) < 0.04 && abs(downRate - 0.3) < 0.04, "\(upRate) \(downRate)")
        // The two directions are drawn independently (P(both) ≈ 0.09, not 0.3).
        let bothRate = Double(first.filter { $0.0 && $0.1 }.count) / 1000
        #expect(abs(bothRate - 0.09) < 0.03, "\(bothRate)")

        let otherSeed = pattern(seed: 2)
        #expect(first.map(\.0) != otherSeed.map(\.0))
        var renamed = fault
        renamed.id = "p30b"
        #expect(first.map(\.0) != pattern(seed: 1, fault: renamed).map(\.0))
        // A draw matches PolicyCompiler.draws for the same key.
        for serial in 0..<UInt64(50) {
            #expect(first[Int(serial)].0 == PolicyCompiler.draws(fault, seed: 1, serial: serial, flow: .upstream))
            #expect(first[Int(serial)].1 == PolicyCompiler.draws(fault, seed: 1, serial: serial, flow: .downstream))
        }
    }

    @Test("A fault's draw does not depend on the other faults in the plan")
    func drawsIndependentOfPlan() {
        let target = FaultSpec(id: "t", probability: 0.5, kind: .stall)
        let noise = FaultSpec(id: "x", probability: 0.5, kind: .blackhole)
        for serial in 0..<UInt64(200) {
            let alone = PolicyCompiler.compile(faults: [target], seed: 4, serial: serial)
            let crowded = PolicyCompiler.compile(faults: [noise, target, noise], seed: 4, serial: serial)
            #expect(alone.upstream.stall == crowded.upstream.stall)
            #expect(alone.downstream.stall == crowded.downstream.stall)
        }
    }

    @Test("Per type, the most recently applied fault that drew wins; all draws are bindings")
    func mostRecentWins() {
        let older = FaultSpec(id: "old", kind: .bandwidth(bytesPerSecond: 100))
        let newer = FaultSpec(id: "new", kind: .bandwidth(bytesPerSecond: 200))
        let policy = PolicyCompiler.compile(faults: [older, newer], seed: 0, serial: 0)
        #expect(policy.upstream.bandwidth == Bound("new", 200))
        #expect(policy.downstream.bandwidth == Bound("new", 200))
        #expect(policy.bindings.map(\.faultID) == ["old", "old", "new", "new"])

        // Newer one only downstream: upstream keeps the older.
        let split = PolicyCompiler.compile(
            faults: [older, FaultSpec(id: "new", direction: .downstream, kind: .bandwidth(bytesPerSecond: 200))],
            seed: 0, serial: 0)
        #expect(split.upstream.bandwidth == Bound("old", 100))
        #expect(split.downstream.bandwidth == Bound("new", 200))

        // Newer one that did not draw: the older stays.
        let skipped = PolicyCompiler.compile(
            faults: [older, FaultSpec(id: "new", probability: 0, kind: .bandwidth(bytesPerSecond: 200))],
            seed: 0, serial: 0)
        #expect(skipped.upstream.bandwidth == Bound("old", 100))
        #expect(skipped.bindings.map(\.faultID) == ["old", "old"])

        // Different types do not displace each other.
        let mixed = PolicyCompiler.compile(faults: [older, FaultSpec(id: "s", kind: .stall)], seed: 0, serial: 0)
        #expect(mixed.upstream.bandwidth == Bound("old", 100) && mixed.upstream.stall == Bound("s", true))
    }

    @Test("refuse and connect_delay bind to the connection, whatever the direction")
    func connectionLevel() {
        let policy = PolicyCompiler.compile(
            faults: [
                FaultSpec(id: "ref", direction: .upstream, kind: .refuse(existing: .reset)),
                FaultSpec(id: "cd", direction: .downstream, kind: .connectDelay(.milliseconds(700))),
            ],
            seed: 3, serial: 11)
        #expect(policy.refuse == Bound("ref", .reset))
        #expect(policy.connectDelay == Bound("cd", .milliseconds(700)))
        #expect(policy.upstream.isEmpty && policy.downstream.isEmpty)
        #expect(policy.bindings == [
            FaultBinding(faultID: "ref", type: "refuse", flow: nil),
            FaultBinding(faultID: "cd", type: "connect_delay", flow: nil),
        ])

        // Connection-level draws are their own stream: independent of the per-direction ones.
        let fault = FaultSpec(id: "half", probability: 0.5, kind: .connectDelay(.seconds(1)))
        var agreeWithUpstream = 0
        var bound = 0
        for serial in 0..<UInt64(1000) {
            let drew = PolicyCompiler.compile(faults: [fault], seed: 3, serial: serial).connectDelay != nil
            #expect(drew == PolicyCompiler.draws(fault, seed: 3, serial: serial, flow: nil))
            if drew == PolicyCompiler.draws(fault, seed: 3, serial: serial, flow: .upstream) { agreeWithUpstream += 1 }
            if drew { bound += 1 }
        }
        #expect(abs(bound - 500) < 60)
        #expect(abs(agreeWithUpstream - 500) < 60)
    }

    @Test("Bindings follow plan order, upstream before downstream")
    func bindingsOrder() {
        let policy = PolicyCompiler.compile(
            faults: [
                FaultSpec(id: "a", direction: .downstream, kind: .blackhole),
                FaultSpec(id: "b", kind: .refuse(existing: .keep)),
                FaultSpec(id: "c", kind: .corrupt(bitFlipRate: 0.1)),
            ],
            seed: 0, serial: 0)
        #expect(policy.bindings == [
            FaultBinding(faultID: "a", type: "blackhole", flow: .downstream),
            FaultBinding(faultID: "b", type: "refuse", flow: nil),
            FaultBinding(faultID: "c", type: "corrupt", flow: .upstream),
            FaultBinding(faultID: "c", type: "corrupt", flow: .downstream),
        ])
    }

    @Test("No faults: an empty policy; chunk streams differ per direction and from draw streams")
    func emptyAndStreams() {
        #expect(PolicyCompiler.compile(faults: [], seed: 1, serial: 1) == ConnectionPolicy())
        #expect(StreamPolicy().isEmpty)
        let streams: Set<UInt64> = [PolicyCompiler.chunkStream(.upstream), PolicyCompiler.chunkStream(.downstream), 0, 1, 2]
        #expect(streams.count == 5)
    }
}
