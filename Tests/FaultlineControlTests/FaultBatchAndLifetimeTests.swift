import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineMetrics
import FaultlineSystem
import Testing

/// `POST /v1/faults` with an array (all or nothing, errors at `[i].…`) and faults applied with
/// `for` (cleared by the control thread's timer, journaled with reason `expired`).
@Suite struct FaultBatchAndLifetimeTests {
    @Test func anArrayIsAppliedAsOneChange() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let response = state.perform(state.applyFault(body: body(#"""
            [{"type": "latency", "route": "a", "delay": "10ms"}, {"type": "latency", "route": "b", "delay": "20ms"},
             {"id": "latency-3", "type": "stall"}, {"type": "partition", "groups": [["n1"], ["n2"]]}]
            """#)), on: plane, journal: sink)
        #expect(response.status == 201)
        let ids = response.json.objectValue?["faults"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue }
        // Counted per type; an id written in the array is not handed out to another element.
        #expect(ids == ["latency-1", "latency-2", "latency-3", "partition-1"])
        #expect(state.faults.map(\.spec.id) == ["slow", "latency-1", "latency-2", "latency-3", "partition-1"])
        #expect(state.planVersion == 2)
        #expect(plane.plans.count == 2)
        #expect(sink.recorded.map(\.event) == ["fault.applied", "fault.applied", "fault.applied", "partition.applied"])
    }

    @Test func aRefusedElementChangesNothingAndEveryErrorNamesItsElement() {
        let plane = FakeDataPlane()
        let state = startedState(plane)
        guard case .reply(let response) = state.applyFault(body: body(#"""
            [{"type": "latency", "route": "a", "delay": "10ms"}, {"type": "latency", "delay": "20x"},
             {"type": "stall", "route": "nope"}, 7, {"id": "dup", "type": "stall"}, {"id": "dup", "type": "stall"},
             {"type": "partition", "groups": [["n1"], ["n9"]]}]
            """#)) else {
            Issue.record("expected a reply"); return
        }
        #expect(response.status == 422)
        #expect(response.errorCode == "invalid_fault")
        let errors = response.json.objectValue?["errors"]?.arrayValue?.map {
            "\($0.objectValue?["path"]?.stringValue ?? ""): \($0.objectValue?["message"]?.stringValue ?? "")"
        }
        #expect(errors == [
            "[1].delay: \"20x\" is not a duration",
            "[2].route: unknown route \"nope\"",
            "[3]: expected an object, got integer",
            "[5].id: duplicate id \"dup\" (also at [4])",
            "[6].groups[1][0]: unknown node \"n9\" (known: n1, n2)",
        ])
    }

    @Test func anArrayNamingAnActiveIDIsAConflictAtItsElement() {
        let plane = FakeDataPlane()
        let state = startedState(plane)
        guard case .reply(let response) = state.applyFault(body: body(#"[{"type": "stall"}, {"id": "slow", "type": "stall"}]"#)) else {
            Issue.record("expected a reply"); return
        }
        #expect(response.status == 409)
        #expect(response.errorCode == "fault_exists")
        #expect(response.errorPath == "[1].id")
        guard case .reply(let empty) = state.applyFault(body: body("[]")) else { Issue.record("expected a reply"); return }
        #expect(empty.status == 422)
        #expect(empty.errorMessage == "expected at least one fault")
    }

    @Test func forIsAPositiveDurationAndShowsTheTimeLeft() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        let now: UInt64 = 1_000_000_000_000
        let response = state.perform(
            state.applyFault(body: body(#"{"type": "stall", "route": "a", "for": "30s"}"#), now: now), on: plane, journal: sink, now: now)
        #expect(response.status == 201)
        #expect(response.bodyText == #"{"id":"stall-1","type":"stall","route":"a","direction":"both","probability":1.0,"for":"30s","expires_in_ms":30000}"# + "\n")
        #expect(state.fault(id: "stall-1")?.expiresAt == now + 30_000_000_000)
        #expect(state.nextExpiry == now + 30_000_000_000)
        #expect(state.faultsJSON(now: now + 12_500_000_000).objectValue?["faults"]?.arrayValue?.last?.objectValue?["expires_in_ms"] == 17500)
        // The journal shows the fault as stored, `for` included.
        #expect(sink.recorded.first?.fields.first?.json.contains(#""for":"30s""#) == true)

        for bad in [#""0s""#, #""soon""#, "30"] {
            guard case .reply(let refused) = state.applyFault(body: body(#"{"type": "stall", "for": \#(bad)}"#), now: now) else {
                Issue.record("expected a reply"); return
            }
            #expect(refused.status == 422)
            #expect(refused.errorPath == "for")
        }
    }

    @Test func expiredFaultsAreClearedAtOnceWithReasonExpired() {
        let plane = FakeDataPlane()
        var state = startedState(plane)
        let sink = RecordingSink()
        _ = state.perform(state.applyFault(body: body(#"""
            [{"id": "short", "type": "stall", "for": "1s"}, {"id": "cut", "type": "partition", "groups": [["n1"], ["n2"]], "for": "1s"},
             {"id": "long", "type": "stall", "for": "1m"}]
            """#), now: 0), on: plane, journal: sink)
        guard case .reply = state.expireFaults(now: 999_999_999) else { Issue.record("nothing is due yet"); return }
        let expirySink = RecordingSink()
        let response = state.perform(state.expireFaults(now: 1_000_000_000), on: plane, journal: expirySink)
        #expect(response.status == 200)
        #expect(state.faults.map(\.spec.id) == ["slow", "long"])
        #expect(expirySink.recorded == [
            JournalEvent(event: "fault.cleared", fields: [.string("id", "short"), .string("reason", "expired")]),
            JournalEvent(event: "partition.healed", fields: [.string("id", "cut"), .string("reason", "expired")]),
        ])
        #expect(state.nextExpiry == 60_000_000_000)
    }

    @Test func theServiceTimerClearsAFaultWhenItsForRunsOut() throws {
        let harness = try ScheduleServiceTests.Harness(schedule: nil)
        let applied = harness.call("POST", "/v1/faults", #"{"id": "lag", "type": "stall", "for": "2s"}"#)
        #expect(applied.status == 201)
        #expect(harness.service.timerDeadline == harness.clock.monotonic + 2_000_000_000)
        harness.clock.advance(.milliseconds(500))
        #expect(harness.call("GET", "/v1/faults/lag").json.objectValue?["expires_in_ms"] == 1500)
        harness.service.timerTick()
        #expect(harness.service.state.fault(id: "lag") != nil)
        harness.clock.advance(.milliseconds(1500))
        harness.service.timerTick()
        #expect(harness.service.state.fault(id: "lag") == nil)
        #expect(harness.service.timerDeadline == nil)
        #expect(harness.events().last == #"{"event":"fault.cleared","id":"lag","reason":"expired"}"#)
    }

    @Test func theStatusPageShowsWhenAFaultExpires() throws {
        let harness = try ScheduleServiceTests.Harness(schedule: nil)
        #expect(harness.call("POST", "/v1/faults", #"{"id": "lag", "type": "stall", "for": "10s"}"#).status == 201)
        harness.clock.advance(.milliseconds(2500))
        let snapshot = harness.call("GET", "/v1/ui/snapshot").json
        let fault = snapshot.objectValue?["faults"]?.arrayValue?.first?.objectValue
        #expect(fault?["ends"] == ["in_ms": 7500, "step": .null, "by": "expires", "paused": false])
        #expect(fault?["fault"]?.objectValue?["expires_in_ms"] == 7500)
    }

    @Test func configAndScheduleFaultsRefuseFor() {
        let config = #"""
            {"version": 1, "routes": [{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}],
             "faults": [{"type": "stall", "for": "30s"}],
             "schedule": {"steps": [{"at": "1s", "apply": {"type": "stall", "for": "1s"}}]}}
            """#
        guard case .failure(let errors) = ConfigDecoder.decode(jsonText: config) else { Issue.record("expected errors"); return }
        #expect(errors.lines == [
            #"faults[0].for: a config fault lasts until it is cleared or the file drops it; for a fault that ends by itself use a schedule step's "for", or apply it through the API"#,
            #"schedule.steps[0].apply.for: give "for" on the step, next to "apply", not inside the fault"#,
        ])
    }
}
