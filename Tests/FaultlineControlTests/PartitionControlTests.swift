import FaultlineConfig
import FaultlineControl
import FaultlineCore
import Testing

/// `POST /v1/partitions`, `DELETE /v1/partitions` and partitions through `/v1/faults`: resolution
/// at apply time, journal events, and the links-blocked gauge. Routes: n1→n2, n2→n1, n3→n1.
@Suite struct PartitionControlTests {
    typealias Harness = ScheduleServiceTests.Harness

    private func partitions(in plan: FaultPlan?) -> [PartitionFault] {
        plan?.routes.first?.faults.compactMap { fault in
            if case .partition(let partition) = fault.kind { return partition }
            return nil
        } ?? []
    }

    @Test func groupsCutEveryRouteBetweenThemAndTheGaugeCountsTheLinks() throws {
        let harness = try Harness(schedule: nil)
        let created = harness.call("POST", "/v1/partitions", #"{"groups": [["n1"], ["n2", "n3"]]}"#)
        #expect(created.status == 201)
        #expect(created.bodyText == #"{"id":"partition-1","type":"partition","route":"*","groups":[["n1"],["n2","n3"]],"mode":"blackhole","one_way":false}"# + "\n")
        #expect(harness.events().last == #"{"event":"partition.applied","id":"partition-1","kind":"groups","groups":[["n1"],["n2","n3"]],"mode":"blackhole","one_way":false,"route":"*"}"#)
        // n1→n2, n2→n1 and n3→n1 each blocked both ways.
        #expect(harness.metric("faultline_partition_links_blocked") == "faultline_partition_links_blocked 6")
        #expect(harness.metric("faultline_faults_active{type=\"partition\"}") == "faultline_faults_active{type=\"partition\"} 1")
        #expect(harness.plane.plans.count == 2)
    }

    @Test func oneWayCountsOnlyTheDirectionLeavingTheFirstGroup() throws {
        let harness = try Harness(schedule: nil)
        #expect(harness.call("POST", "/v1/partitions", #"{"id": "out", "groups": [["n1"], ["n2", "n3"]], "one_way": true}"#).status == 201)
        #expect(harness.metric("faultline_partition_links_blocked") == "faultline_partition_links_blocked 3")
        let partition = partitions(in: harness.plane.lastPlan).first
        #expect(partition?.blocks(from: "n1", to: "n2") == .upstream)
        #expect(partition?.blocks(from: "n2", to: "n1") == .downstream)
    }

    @Test func isolateResolvesAtApplyTimeAndShowsTheGroups() throws {
        let harness = try Harness(schedule: nil)
        let created = harness.call("POST", "/v1/partitions", #"{"id": "iso", "kind": "isolate", "node": "n1", "mode": "reset"}"#)
        #expect(created.status == 201)
        #expect(created.bodyText == #"{"id":"iso","type":"partition","route":"*","kind":"isolate","node":"n1","mode":"reset","one_way":false,"resolved":[[["n1"],["n2","n3"]]]}"# + "\n")
        #expect(harness.events().last == #"{"event":"partition.applied","id":"iso","kind":"isolate","node":"n1","groups":[["n1"],["n2","n3"]],"mode":"reset","one_way":false,"route":"*"}"#)
        #expect(harness.call("GET", "/v1/faults/iso").json == created.json)
        #expect(harness.call("GET", "/v1/faults").json.objectValue?["faults"]?.arrayValue?.first == created.json)
    }

    @Test func aGeneratorIsResolvedOnceFromTheSeedAndLaterPlansKeepIt() throws {
        let harness = try Harness(schedule: nil)
        #expect(harness.call("POST", "/v1/partitions", #"{"id": "halves", "kind": "random_halves"}"#).status == 201)
        let expected = PartitionGenerator.randomHalves.resolve(nodes: ["n1", "n2", "n3"], seed: 7, faultID: "halves")
        #expect(partitions(in: harness.plane.lastPlan).first?.resolved == expected)
        guard case .partition(let stored)? = harness.service.state.fault(id: "halves")?.spec.kind else {
            Issue.record("not stored")
            return
        }
        #expect(stored.resolved == expected)
        // A new node appears: the plan is rebuilt, the partition is not drawn again.
        #expect(harness.call("POST", "/v1/routes", #"{"name": "n4-n1", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "from": "n4", "to": "n1"}"#).status == 201)
        #expect(harness.plane.plans.count == 3)
        #expect(partitions(in: harness.plane.lastPlan).first?.resolved == expected)
    }

    @Test(arguments: [
        ("random_node", #"{"id": "rn", "kind": "random_node"}"#),
        ("bridge", #"{"id": "br", "kind": "bridge"}"#),
        ("ring", #"{"id": "rg", "kind": "ring"}"#),
    ])
    func everyGeneratorIsJournaledWithWhatItResolvedTo(kind: String, body: String) throws {
        let harness = try Harness(schedule: nil)
        let created = harness.call("POST", "/v1/partitions", body)
        #expect(created.status == 201)
        let id = created.json.objectValue?["id"]?.stringValue ?? ""
        let generator: PartitionGenerator = kind == "random_node" ? .randomNode : kind == "bridge" ? .bridge : .ring
        let sets = generator.resolve(nodes: ["n1", "n2", "n3"], seed: 7, faultID: id)
        let line = harness.events().last ?? ""
        #expect(line.hasPrefix(#"{"event":"partition.applied","id":"\#(id)","kind":"\#(kind)","#))
        if sets.count == 1 {
            #expect(line.contains(#""groups":\#(JSONWriter.render(FaultEncoder.groups(sets[0])))"#))
        } else {
            #expect(line.contains(#""partitions":[]"#), "a ring of three is all neighbours: \(line)")
        }
    }

    @Test func deletePartitionsHealsOnlyPartitions() throws {
        let harness = try Harness(schedule: nil)
        _ = harness.call("POST", "/v1/partitions", #"{"id": "a", "groups": [["n1"], ["n2"]]}"#)
        _ = harness.call("POST", "/v1/faults", #"{"id": "lag", "type": "latency", "delay": "5ms"}"#)
        _ = harness.call("POST", "/v1/faults", #"{"id": "b", "type": "partition", "kind": "isolate", "node": "n3"}"#)
        #expect(harness.events().last?.contains(#""event":"partition.applied","id":"b""#) == true, "POST /v1/faults journals partitions as partitions")
        let seq = harness.journal.lastSequence
        let healed = harness.call("DELETE", "/v1/partitions")
        #expect(healed.bodyText == #"{"healed":["a","b"]}"# + "\n")
        #expect(harness.events(after: seq) == [
            #"{"event":"partition.healed","id":"a","reason":"heal"}"#,
            #"{"event":"partition.healed","id":"b","reason":"heal"}"#,
        ])
        #expect(harness.service.state.faults.map(\.spec.id) == ["lag"])
        #expect(harness.metric("faultline_partition_links_blocked") == "faultline_partition_links_blocked 0")
        let plans = harness.plane.plans.count
        #expect(harness.call("DELETE", "/v1/partitions").bodyText == #"{"healed":[]}"# + "\n")
        #expect(harness.plane.plans.count == plans, "nothing to heal, no new plan")
    }

    @Test func deletingOnePartitionJournalsItHealed() throws {
        let harness = try Harness(schedule: nil)
        _ = harness.call("POST", "/v1/faults", #"{"id": "p", "type": "partition", "groups": [["n1"], ["n2"]]}"#)
        #expect(harness.call("DELETE", "/v1/faults/p").status == 204)
        #expect(harness.events().last == #"{"event":"partition.healed","id":"p","reason":"api"}"#)
    }

    @Test(arguments: [
        (#"{"groups": [["n1"], ["n2", "n9"]]}"#, "groups[1][1]", #"unknown node "n9" (known: n1, n2, n3)"#),
        (#"{"kind": "isolate", "node": "nx"}"#, "node", #"unknown node "nx" (known: n1, n2, n3)"#),
        (#"{"kind": "isolate"}"#, "node", "missing required key"),
        (#"{"type": "latency", "delay": "1s"}"#, "type", #"must be "partition" here (or left out), got "latency""#),
        (#"{"groups": [["n1"]]}"#, "groups", "must list at least two groups, got 1"),
        (#"{"kind": "star"}"#, "kind", #"unknown partition kind "star" (expected isolate, random_halves, bridge, ring or random_node)"#),
        (#"[1]"#, "$", "expected an object, got array"),
    ])
    func invalidPartitionsAreRejectedWithTheirPath(body: String, path: String, message: String) throws {
        let harness = try Harness(schedule: nil)
        let plans = harness.plane.plans.count
        let response = harness.call("POST", "/v1/partitions", body)
        #expect(response.status == 422)
        #expect(response.errorCode == "invalid_fault")
        #expect(response.errorPath == path)
        #expect(response.errorMessage == message)
        #expect(harness.plane.plans.count == plans)
    }

    @Test func generatorsNeedEnoughKnownNodes() throws {
        let harness = try Harness(schedule: nil)
        for route in ["n1-n2", "n2-n1", "n3-n1"] { _ = harness.call("DELETE", "/v1/routes/\(route)") }
        let response = harness.call("POST", "/v1/partitions", #"{"kind": "random_halves"}"#)
        #expect(response.status == 422)
        #expect(response.errorMessage == "random_halves needs at least 2 known nodes, found 0 (no nodes are known: give routes `from`/`to` or a `nodes` map)")
    }

    @Test func aConfigPartitionGeneratorIsResolvedAtLoad() throws {
        var state = ControlState(config: decodeConfig(#"""
            {"version": 1, "seed": 3, "nodes": {"a": {"addresses": ["10.0.0.1"]}, "b": {"addresses": ["10.0.0.2"]}, "c": {"addresses": ["10.0.0.3"]}},
             "routes": [{"name": "r", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "to": "a"}],
             "faults": [{"id": "pick", "type": "partition", "kind": "random_node"}]}
            """#))
        guard case .partition(let partition) = state.faults[0].spec.kind else {
            Issue.record("no partition")
            return
        }
        #expect(partition.resolved == PartitionGenerator.randomNode.resolve(nodes: ["a", "b", "c"], seed: 3, faultID: "pick"))
        // A reload of the same file changes nothing (the resolution is the same, no events).
        let sink = RecordingSink()
        _ = state.perform(state.reload(to: state.config, path: "f"), on: FakeDataPlane(), journal: sink)
        #expect(sink.names == ["config.reloaded"])
    }
}
