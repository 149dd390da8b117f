import FaultlineConfig
import FaultlineControl
import FaultlineCore
import Testing

@Suite struct ControlStateTests {
    @Test func theConfigDescribesTheFirstPlan() {
        let state = ControlState(config: decodeConfig(baseConfigJSON))
        let plan = state.nextPlan()
        #expect(plan.version == 1)
        #expect(plan.seed == 7)
        #expect(plan.routes.map(\.spec.name) == ["a", "b"])
        #expect(plan.route(named: "a")?.faults.map(\.id) == ["slow"])
        #expect(plan.route(named: "b")?.faults.isEmpty == true)
        #expect(state.routes.allSatisfy { $0.origin == .config })
    }

    @Test func applyingAFaultPutsItInForceAndJournalsIt() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let response = state.perform(state.applyFault(body: body(#"{"type": "bandwidth", "route": ["a", "b"], "bytes_per_second": 1000}"#)),
                                     on: plane, journal: sink)
        #expect(response.status == 201)
        #expect(response.bodyText == #"{"id":"bandwidth-1","type":"bandwidth","route":["a","b"],"direction":"both","probability":1.0,"bytes_per_second":1000}"# + "\n")
        #expect(state.faults.map(\.spec.id) == ["slow", "bandwidth-1"])
        #expect(state.faults.last?.origin == .runtime)
        #expect(state.planVersion == 2)
        #expect(plane.lastPlan?.version == 2)
        #expect(plane.lastPlan?.route(named: "b")?.faults.map(\.id) == ["bandwidth-1"])
        #expect(plane.lastPlan?.route(named: "a")?.faults.map(\.id) == ["slow", "bandwidth-1"])
        #expect(sink.recorded == [JournalEvent(event: "fault.applied", fields: [
            JournalField("fault", json: #"{"id":"bandwidth-1","type":"bandwidth","route":["a","b"],"direction":"both","probability":1.0,"bytes_per_second":1000}"#),
        ])])
    }

    @Test func generatedIDsSkipIDsInUse() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        _ = state.perform(state.applyFault(body: body(#"{"id": "stall-1", "type": "stall"}"#)), on: plane, journal: sink)
        let response = state.perform(state.applyFault(body: body(#"{"type": "stall"}"#)), on: plane, journal: sink)
        #expect(response.json.objectValue?["id"] == "stall-2")
        // Counted per type: the first blackhole is blackhole-1 whatever came before.
        let next = state.perform(state.applyFault(body: body(#"{"type": "blackhole"}"#)), on: plane, journal: sink)
        #expect(next.json.objectValue?["id"] == "blackhole-1")
        let third = state.perform(state.applyFault(body: body(#"{"type": "stall"}"#)), on: plane, journal: sink)
        #expect(third.json.objectValue?["id"] == "stall-3")
    }

    @Test func aRefusedPlanChangesNothing() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let before = state
        let sink = RecordingSink()
        plane.failNextApply()
        let response = state.perform(state.applyFault(body: body(#"{"type": "stall"}"#)), on: plane, journal: sink)
        #expect(response.status == 409)
        #expect(response.errorCode == "apply_failed")
        #expect(response.errorMessage == "route x: cannot listen on 127.0.0.1:1: Address already in use")
        #expect(state == before)
        #expect(sink.recorded.isEmpty)
        // The next attempt is numbered as if the refused one never happened.
        _ = state.perform(state.applyFault(body: body(#"{"type": "stall"}"#)), on: plane, journal: sink)
        #expect(state.planVersion == before.planVersion + 1)
        #expect(state.faults.last?.spec.id == "stall-1")
    }

    @Test func aPlanTheWorkersDidNotTakeIs503AndChangesNothing() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let before = state
        let sink = RecordingSink()
        plane.failNextApply(with: FakeTimeoutError())
        let response = state.perform(state.applyFault(body: body(#"{"type": "stall"}"#)), on: plane, journal: sink)
        #expect(response.status == 503)
        #expect(response.errorCode == "dataplane_timeout")
        #expect(response.errorMessage == "a worker did not take the new plan in time; nothing changed")
        #expect(state == before)
        #expect(sink.recorded.isEmpty)
    }

    @Test func aDuplicateIDIsAConflict() {
        let plane = FakeDataPlane()
        let state = startedState(plane)
        guard case .reply(let response) = state.applyFault(body: body(#"{"id": "slow", "type": "stall"}"#)) else {
            Issue.record("expected a reply"); return
        }
        #expect(response.status == 409)
        #expect(response.errorCode == "fault_exists")
        #expect(response.errorPath == "id")
    }

    @Test func anInvalidFaultListsEveryProblemWithPaths() {
        let state = startedState(FakeDataPlane())
        guard case .reply(let response) = state.applyFault(body: body(#"{"type": "latency", "delay": "20x", "route": "nope", "colour": 1}"#)) else {
            Issue.record("expected a reply"); return
        }
        #expect(response.status == 422)
        #expect(response.bodyText == #"{"error":{"code":"invalid_fault","message":"unknown route \"nope\"","path":"route"},"errors":[{"path":"route","message":"unknown route \"nope\""},{"path":"delay","message":"\"20x\" is not a duration"},{"path":"colour","message":"unknown key for type latency"}]}"# + "\n")
    }

    @Test(arguments: [
        ("", 400, "malformed_json"),
        ("{", 400, "malformed_json"),
        ("[1,]", 400, "malformed_json"),
        (#"{"type": "stall", "type": "blackhole"}"#, 422, "invalid_fault"),
        ("[]", 422, "invalid_fault"),
        (#"{"type": "partitionx"}"#, 422, "invalid_fault"),
    ])
    func badBodiesAreRejected(text: String, status: Int, code: String) {
        let state = startedState(FakeDataPlane())
        guard case .reply(let response) = state.applyFault(body: body(text)) else { Issue.record("expected a reply"); return }
        #expect(response.status == status)
        #expect(response.errorCode == code)
    }

    @Test func clearingFaults() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        _ = state.perform(state.applyFault(body: body(#"{"id": "x", "type": "stall"}"#)), on: plane, journal: sink)
        #expect(state.perform(state.clearFault(id: "nope"), on: plane, journal: sink).status == 404)
        #expect(state.perform(state.clearFault(id: "slow"), on: plane, journal: sink).status == 204)
        #expect(state.faults.map(\.spec.id) == ["x"])
        let all = state.perform(state.clearAllFaults(), on: plane, journal: sink)
        #expect(all.bodyText == #"{"cleared":["x"]}"# + "\n")
        #expect(state.faults.isEmpty)
        #expect(sink.names == ["fault.applied", "fault.cleared", "fault.cleared"])
        #expect(sink.recorded[1].fields == [.string("id", "slow"), .string("reason", "api")])
        let plans = plane.plans.count
        #expect(state.perform(state.clearAllFaults(), on: plane, journal: sink).bodyText == #"{"cleared":[]}"# + "\n")
        #expect(plane.plans.count == plans, "clearing nothing needs no plan")
    }

    @Test func addingARouteAnswersWithItsBoundPort() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let response = state.perform(state.addRoute(body: body(#"{"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9003", "protocol": "tcp"}"#)),
                                     on: plane, journal: sink)
        #expect(response.status == 201)
        #expect(response.bodyText == #"{"name":"c","listen":"127.0.0.1:0","bound":"127.0.0.1:40001","upstream":"127.0.0.1:9003","protocol":"tcp","from":null,"to":null,"enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"runtime"}"# + "\n")
        #expect(state.boundAddresses["c"] == Endpoint(parsing: "127.0.0.1:40001"))
        #expect(sink.names == ["route.added"])
    }

    @Test func routeConflictsAndInvalidRoutes() {
        let state = startedState(FakeDataPlane())
        func reply(_ text: String) -> ControlResponse? {
            if case .reply(let response) = state.addRoute(body: body(text)) { return response }
            return nil
        }
        let dup = reply(#"{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}"#)
        #expect(dup?.status == 409)
        #expect(dup?.errorCode == "route_exists")
        let taken = reply(#"{"name": "z", "listen": "127.0.0.1:15002", "upstream": "127.0.0.1:1"}"#)
        #expect(taken?.errorCode == "address_in_use")
        let boundTaken = reply(#"{"name": "z", "listen": "127.0.0.1:40000", "upstream": "127.0.0.1:1"}"#)
        #expect(boundTaken?.errorCode == "address_in_use", "the port bound for route a is taken too")
        let wildcard = reply(#"{"name": "z", "listen": "0.0.0.0:15002", "upstream": "127.0.0.1:1"}"#)
        #expect(wildcard?.status == 409)
        #expect(wildcard?.errorMessage == #"listen address 0.0.0.0:15002 overlaps 127.0.0.1:15002 of route "b""#)
        #expect(wildcard?.errorPath == "listen")
        let otherFamily = reply(#"{"name": "z", "listen": "[::]:15002", "upstream": "127.0.0.1:1"}"#)
        #expect(otherFamily == nil, "IPv6 listeners are V6ONLY, so [::] does not overlap an IPv4 address")
        let invalid = reply(#"{"name": "z z", "listen": "nowhere", "extra": true}"#)
        #expect(invalid?.status == 422)
        #expect(invalid?.bodyText == #"{"error":{"code":"invalid_route","message":"\"z z\" is not a valid name (use letters, digits, '.', '_' and '-')","path":"name"},"errors":[{"path":"name","message":"\"z z\" is not a valid name (use letters, digits, '.', '_' and '-')"},{"path":"listen","message":"\"nowhere\" is not a valid address"},{"path":"upstream","message":"missing required key"},{"path":"extra","message":"unknown key"}]}"# + "\n")
        #expect(reply("42")?.errorPath == "$")
    }

    @Test func patchingARoute() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let disabled = state.perform(state.updateRoute(named: "b", body: body(#"{"enabled": false}"#)), on: plane, journal: sink)
        #expect(disabled.status == 200)
        #expect(disabled.json.objectValue?["enabled"] == false)
        #expect(disabled.json.objectValue?["bound"] == .null)
        #expect(plane.lastPlan?.route(named: "b")?.spec.enabled == false)
        let plans = plane.plans.count
        #expect(state.perform(state.updateRoute(named: "b", body: body(#"{"enabled": false}"#)), on: plane, journal: sink).status == 200)
        #expect(plane.plans.count == plans, "an unchanged route needs no plan")
        _ = state.perform(state.updateRoute(named: "b", body: body(#"{"enabled": true, "upstream": "127.0.0.1:9999"}"#)), on: plane, journal: sink)
        #expect(state.route(named: "b")?.spec.upstream == UpstreamAddress(parsing: "127.0.0.1:9999"))
        #expect(sink.names == ["route.disabled", "route.updated", "route.enabled"])

        guard case .reply(let bad) = state.updateRoute(named: "b", body: body(#"{"enabled": "no", "name": "c", "listen": "x"}"#)) else {
            Issue.record("expected a reply"); return
        }
        #expect(bad.status == 422)
        #expect(bad.json.objectValue?["errors"]?.arrayValue?.count == 3)
        guard case .reply(let missing) = state.updateRoute(named: "zz", body: body("{}")) else { Issue.record("expected a reply"); return }
        #expect(missing.status == 404)
    }

    /// `PATCH /v1/routes/{name}` takes a host-name upstream, shown as written; a malformed name is
    /// 422 at `upstream`, and `listen` stays an IP address.
    @Test func patchingARouteToAHostName() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let patched = state.perform(state.updateRoute(named: "b", body: body(#"{"upstream": "redis:6379"}"#)), on: plane, journal: sink)
        #expect(patched.status == 200)
        #expect(patched.json.objectValue?["upstream"] == "redis:6379")
        #expect(plane.lastPlan?.route(named: "b")?.spec.upstream == UpstreamAddress(host: .name("redis"), port: 6379))
        guard case .reply(let bad) = state.updateRoute(named: "b", body: body(#"{"upstream": "redis..x:1", "listen": "redis:1"}"#)) else {
            Issue.record("expected a reply"); return
        }
        #expect(bad.status == 422)
        #expect(bad.bodyText.contains(#"{"path":"listen","message":"\"redis:1\" is not a valid address"}"#), "\(bad.bodyText)")
        #expect(bad.bodyText.contains(#"{"path":"upstream","message":"\"redis..x:1\" is not a valid address"}"#), "\(bad.bodyText)")
    }

    @Test func aRouteNamedByAFaultCannotBeRemoved() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let refused = state.perform(state.removeRoute(named: "a"), on: plane, journal: sink)
        #expect(refused.status == 409)
        #expect(refused.errorCode == "route_in_use")
        #expect(state.perform(state.removeRoute(named: "b"), on: plane, journal: sink).status == 204)
        #expect(state.routes.map(\.spec.name) == ["a"])
        #expect(sink.names == ["route.removed"])
    }

    @Test func reloadReplacesTheFileAndKeepsRuntimeAdditions() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        _ = state.perform(state.addRoute(body: body(#"{"name": "rt", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}"#)), on: plane, journal: sink)
        _ = state.perform(state.applyFault(body: body(#"{"id": "cut", "route": "rt", "type": "blackhole"}"#)), on: plane, journal: sink)
        let newConfig = decodeConfig("""
            {"version": 1, "seed": 8,
             "routes": [{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"},
                        {"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9003"}],
             "faults": [{"id": "slow", "route": "a", "type": "latency", "delay": "200ms"}]}
            """)
        let reloadSink = RecordingSink()
        let response = state.perform(state.reload(to: newConfig, path: "f.json"), on: plane, journal: reloadSink)
        #expect(response.status == 200)
        #expect(state.routes.map(\.spec.name) == ["a", "c", "rt"])
        #expect(state.faults.map(\.spec.id) == ["slow", "cut"])
        #expect(plane.lastPlan?.seed == 8)
        #expect(reloadSink.names == ["config.reloaded", "route.removed", "route.added", "fault.cleared", "fault.applied"])
        #expect(reloadSink.recorded[0].fields == [.string("path", "f.json"), .int("routes", 2), .int("faults", 1)])
    }

    @Test func reloadConflictsChangeNothing() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        _ = state.perform(state.addRoute(body: body(#"{"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}"#)), on: plane, journal: sink)
        _ = state.perform(state.applyFault(body: body(#"{"id": "onb", "route": "b", "type": "stall"}"#)), on: plane, journal: sink)
        let before = state
        let newConfig = decodeConfig("""
            {"version": 1, "routes": [{"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9003"}]}
            """)
        guard case .reply(let response) = state.reload(to: newConfig, path: "f.json") else { Issue.record("expected a reply"); return }
        #expect(response.status == 409)
        #expect(response.errorCode == "reload_conflict")
        #expect(response.json.objectValue?["errors"]?.arrayValue?.count == 2)
        #expect(state == before)
    }

    @Test func statusShowsEverything() {
        let plane = FakeDataPlane()
        let state = startedState(plane)
        let status = state.statusJSON(ControlEnvironment(version: "9.9.9", uptime: .milliseconds(2500), workers: 2, openConnections: 7))
        #expect(JSONWriter.render(status) == #"{"version":"9.9.9","uptime_seconds":2.5,"workers":2,"seed":7,"plan_version":1,"open_connections":7,"routes":[{"name":"a","listen":"127.0.0.1:0","bound":"127.0.0.1:40000","upstream":"127.0.0.1:9001","protocol":"tcp","from":null,"to":null,"enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"config"},{"name":"b","listen":"127.0.0.1:15002","bound":"127.0.0.1:15002","upstream":"127.0.0.1:9002","protocol":"tcp","from":"n1","to":"n2","enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"config"}],"faults":[{"id":"slow","type":"latency","route":"a","direction":"both","probability":1.0,"delay":"100ms","jitter":"0s","distribution":"uniform"}],"schedule":{"state":"none"}}"#)
    }
}
