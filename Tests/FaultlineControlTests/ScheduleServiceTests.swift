import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineMetrics
import FaultlineSystem
import Testing

/// The schedule runner inside the control service: endpoints, journal, metrics, and every step
/// carried out through the same transitions as the API. The clock is moved by hand.
@Suite struct ScheduleServiceTests {
    final class TestClock {
        var monotonic: UInt64 = 5_000_000_000_000
        /// 2023-11-14T22:13:20Z at `monotonic`'s starting value.
        var realtime: UInt64 { 1_700_000_000_000_000_000 &+ (monotonic &- 5_000_000_000_000) }
        func advance(_ duration: Duration) { monotonic += duration.nanosecondsClamped }
    }

    final class Harness {
        let plane = FakeDataPlane()
        let journal: Journal
        let registry = MetricsRegistry()
        let metrics = ControlMetrics()
        let clock = TestClock()
        let service: ControlService

        init(schedule: String?) throws {
            journal = try Journal(path: nil, log: Logger(minimumLevel: .error), clock: { 1_700_000_000_123_456_000 })
            metrics.register(into: registry)
            let clock = self.clock
            var json = Self.routesJSON
            if let schedule { json += #", "schedule": \#(schedule)"# }
            service = ControlService(
                config: decodeConfig(json + "}"), configPath: "/etc/f.json", dataPlane: plane, journal: journal,
                registry: registry, metrics: metrics, version: "1.2.3", log: Logger(minimumLevel: .error),
                monotonicClock: { clock.monotonic }, loadConfig: { _ in .failure(ConfigErrors([])) },
                realtimeClock: { clock.realtime }
            )
            try service.start()
        }

        static let routesJSON = """
            {"version": 1, "seed": 7,
             "routes": [
               {"name": "n1-n2", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001", "from": "n1", "to": "n2"},
               {"name": "n2-n1", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9002", "from": "n2", "to": "n1"},
               {"name": "n3-n1", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9003", "from": "n3", "to": "n1"}
             ]
            """

        func call(_ method: String, _ target: String, _ text: String = "") -> ControlResponse {
            service.handle(ControlRequest(method: method, target: target, body: Array(text.utf8))!, on: .unix)
        }

        /// Journal lines after `seq`, without the `seq` and `ts` prefix (those are tested elsewhere).
        func events(after seq: UInt64 = 0) -> [String] {
            journal.entries(after: seq).entries.map { entry in
                let line = entry.line
                guard let range = line.firstRange(of: #","event":"#) else { return line }
                return "{" + line[line.index(after: range.lowerBound)...]
            }
        }

        /// Moves the clock to the next deadline plus `late`, then lets the timer fire.
        func fireNext(late: Duration = .zero) {
            guard let deadline = service.scheduleDeadline else {
                Issue.record("no schedule deadline")
                return
            }
            clock.monotonic = deadline + late.nanosecondsClamped
            service.scheduleTick()
        }

        func metric(_ name: String) -> String? {
            registry.render().split(separator: "\n").first { $0.hasPrefix(name + " ") }.map(String.init)
        }
    }

    static let threeSteps = """
        {"steps": [
          {"at": "5s", "apply": {"id": "cut", "type": "partition", "groups": [["n1"], ["n2", "n3"]]}, "for": "20s"},
          {"at": "30s", "apply": {"id": "lag", "route": "*", "type": "latency", "delay": "50ms"}},
          {"at": "60s", "clear": "lag"}
        ]}
        """

    @Test func onLoadStartsAfterDaemonStartedAndEachStepIsJournaledWithItsLateness() throws {
        let harness = try Harness(schedule: Self.threeSteps)
        #expect(harness.events() == [
            #"{"event":"daemon.started","version":"1.2.3","seed":7,"workers":2}"#,
            #"{"event":"schedule.started","start":"on_load","steps":3,"timeline":4}"#,
        ])
        #expect(harness.service.scheduleDeadline == harness.clock.monotonic + 5_000_000_000)

        harness.fireNext(late: .microseconds(2500))
        #expect(harness.events(after: 2) == [
            #"{"event":"partition.applied","id":"cut","kind":"groups","groups":[["n1"],["n2","n3"]],"mode":"blackhole","one_way":false,"route":"*"}"#,
            #"{"event":"schedule.step","step":0,"iteration":0,"action":"apply","fault":"cut","due":"5s","lateness_us":2500,"result":"ok"}"#,
        ])
        // Through the data plane like any API change; the links n2→n1 and n3→n1 are cut both ways.
        #expect(harness.plane.plans.count == 2)
        #expect(harness.plane.lastPlan?.partitionLinksBlocked == 6)
        #expect(harness.metric("faultline_partition_links_blocked") == "faultline_partition_links_blocked 6")
        #expect(harness.metric("faultline_schedule_steps_total") == "faultline_schedule_steps_total 1")

        harness.fireNext()
        harness.fireNext(late: .milliseconds(1))
        harness.fireNext()
        #expect(harness.events(after: 4) == [
            #"{"event":"partition.healed","id":"cut","reason":"schedule"}"#,
            #"{"event":"schedule.step","step":0,"iteration":0,"action":"clear","fault":"cut","automatic":true,"due":"25s","lateness_us":0,"result":"ok"}"#,
            #"{"event":"fault.applied","fault":{"id":"lag","type":"latency","route":"*","direction":"both","probability":1.0,"delay":"50ms","jitter":"0s","distribution":"uniform"}}"#,
            #"{"event":"schedule.step","step":1,"iteration":0,"action":"apply","fault":"lag","due":"30s","lateness_us":1000,"result":"ok"}"#,
            #"{"event":"fault.cleared","id":"lag","reason":"schedule"}"#,
            #"{"event":"schedule.step","step":2,"iteration":0,"action":"clear","fault":"lag","due":"1m","lateness_us":0,"result":"ok"}"#,
            #"{"event":"schedule.finished","reason":"completed","steps_run":4}"#,
        ])
        #expect(harness.service.scheduleDeadline == nil)
        #expect(harness.metric("faultline_schedule_steps_total") == "faultline_schedule_steps_total 4")
        #expect(harness.metric("faultline_partition_links_blocked") == "faultline_partition_links_blocked 0")
        #expect(harness.service.state.faults.isEmpty)
    }

    @Test func getScheduleShowsStateProgressNextStepAndTheScheduleItself() throws {
        let harness = try Harness(schedule: Self.threeSteps)
        harness.clock.advance(.seconds(2))
        let body = harness.call("GET", "/v1/schedule")
        #expect(body.status == 200)
        #expect(body.bodyText == #"{"state":"running","start":"on_load","steps_run":0,"steps_total":4,"elapsed_ms":2000,"started_at":"2023-11-14T22:13:20.000000Z","next":{"step":0,"iteration":0,"action":"apply","fault":"cut","automatic":false,"due":"5s","due_at":"2023-11-14T22:13:25.000000Z","due_in_ms":3000},"applied":[],"schedule":{"start":"on_load","steps":[{"at":"5s","apply":{"id":"cut","type":"partition","route":"*","groups":[["n1"],["n2","n3"]],"mode":"blackhole","one_way":false},"for":"20s"},{"at":"30s","apply":{"id":"lag","type":"latency","route":"*","direction":"both","probability":1.0,"delay":"50ms","jitter":"0s","distribution":"uniform"}},{"at":"1m","clear":"lag"}]}}"# + "\n")
        harness.fireNext()
        let status = harness.call("GET", "/v1/status").json.objectValue?["schedule"]?.objectValue
        #expect(status?["state"] == "running")
        #expect(status?["applied"] == ["cut"])
        #expect(status?["next"]?.objectValue?["action"] == "clear")
        #expect(status?["next"]?.objectValue?["automatic"] == true)
        #expect(status?["schedule"] == nil, "the status summary leaves the steps out")
    }

    @Test func withoutAScheduleTheEndpointsSaySo() throws {
        let harness = try Harness(schedule: nil)
        #expect(harness.call("GET", "/v1/schedule").bodyText == #"{"state":"none"}"# + "\n")
        for command in ["start", "stop", "pause", "resume"] {
            let response = harness.call("POST", "/v1/schedule/\(command)")
            #expect(response.status == 404)
            #expect(response.errorMessage == "no schedule is loaded (PUT /v1/schedule)")
        }
    }

    @Test func manualWaitsForStartThenPauseAndResumeShiftTheSteps() throws {
        let harness = try Harness(schedule: Self.threeSteps.replacing(#"{"steps""#, with: #"{"start": "manual", "steps""#))
        #expect(harness.call("GET", "/v1/schedule").json.objectValue?["state"] == "idle")
        #expect(harness.service.scheduleDeadline == nil)
        #expect(harness.call("POST", "/v1/schedule/pause").errorCode == "schedule_not_running")
        #expect(harness.call("POST", "/v1/schedule/resume").errorCode == "schedule_not_paused")

        let started = harness.call("POST", "/v1/schedule/start")
        #expect(started.status == 200)
        #expect(started.json.objectValue?["state"] == "running")
        #expect(harness.call("POST", "/v1/schedule/start").errorCode == "schedule_running")
        let origin = harness.clock.monotonic

        harness.clock.advance(.seconds(3))
        #expect(harness.call("POST", "/v1/schedule/pause").json.objectValue?["state"] == "paused")
        #expect(harness.service.scheduleDeadline == nil)
        harness.clock.advance(.seconds(60))
        harness.service.scheduleTick()
        #expect(harness.service.state.faults.isEmpty, "nothing runs while paused")
        #expect(harness.call("POST", "/v1/schedule/resume").json.objectValue?["state"] == "running")
        #expect(harness.service.scheduleDeadline == origin + 65_000_000_000)
        let lines = harness.events().filter { $0.contains("schedule.paused") || $0.contains("schedule.resumed") }
        #expect(lines == [
            #"{"event":"schedule.paused","steps_run":0,"elapsed_ms":3000}"#,
            #"{"event":"schedule.resumed","steps_run":0,"elapsed_ms":3000}"#,
        ])
    }

    @Test func stopClearsWhatTheScheduleAppliedAndPutNeedsItStopped() throws {
        let harness = try Harness(schedule: Self.threeSteps)
        harness.fireNext()  // cut
        harness.fireNext()  // cut's for ends
        harness.fireNext()  // lag
        #expect(harness.service.state.faults.map(\.spec.id) == ["lag"])

        let replacement = #"{"start": "manual", "steps": [{"at": "1s", "apply": {"id": "iso", "type": "partition", "kind": "isolate", "node": "n1"}}]}"#
        let conflict = harness.call("PUT", "/v1/schedule", replacement)
        #expect(conflict.status == 409)
        #expect(conflict.errorCode == "schedule_running")

        let seq = harness.journal.lastSequence
        let stopped = harness.call("POST", "/v1/schedule/stop")
        #expect(stopped.json.objectValue?["state"] == "stopped")
        #expect(stopped.json.objectValue?["applied"] == [])
        #expect(harness.service.state.faults.isEmpty)
        #expect(harness.events(after: seq) == [
            #"{"event":"fault.cleared","id":"lag","reason":"schedule_stop"}"#,
            #"{"event":"schedule.finished","reason":"stopped","steps_run":3}"#,
        ])
        #expect(harness.service.scheduleDeadline == nil)

        let replaced = harness.call("PUT", "/v1/schedule", replacement)
        #expect(replaced.status == 200)
        #expect(replaced.json.objectValue?["state"] == "idle")
        #expect(replaced.json.objectValue?["schedule"]?.objectValue?["steps"]?.arrayValue?.count == 1)
        _ = harness.call("POST", "/v1/schedule/start")
        harness.fireNext()
        // The generator was resolved when the step ran, and the resolution is stored.
        guard case .partition(let partition)? = harness.service.state.fault(id: "iso")?.spec.kind else {
            Issue.record("iso not applied")
            return
        }
        #expect(partition.resolved == [[["n1"], ["n2", "n3"]]])
    }

    @Test func putChecksTheScheduleLikeTheConfigFileWithPathsInsideTheBody() throws {
        let harness = try Harness(schedule: nil)
        let bad = harness.call("PUT", "/v1/schedule", #"{"steps": [{"at": "2x", "clear": "ghost"}, {"at": "1s", "apply": {"type": "latency", "route": "nope", "delay": "1s"}}], "colour": 1}"#)
        #expect(bad.status == 422)
        #expect(bad.errorCode == "invalid_schedule")
        let paths = bad.json.objectValue?["errors"]?.arrayValue?.compactMap { $0.objectValue?["path"]?.stringValue }
        #expect(paths == ["steps[0].at", "steps[1].apply.route", "steps[0].clear", "colour"])
        #expect(harness.call("PUT", "/v1/schedule", "[]").status == 422)
        #expect(harness.call("PUT", "/v1/schedule", "").errorCode == "malformed_json")
        #expect(harness.call("GET", "/v1/schedule").bodyText == #"{"state":"none"}"# + "\n", "a rejected PUT changes nothing")

        // A clear may name a fault active now (applied through the API).
        _ = harness.call("POST", "/v1/faults", #"{"id": "api-lag", "type": "latency", "delay": "1ms"}"#)
        let ok = harness.call("PUT", "/v1/schedule", #"{"steps": [{"at": "1s", "clear": "api-lag"}]}"#)
        #expect(ok.status == 200)
        #expect(ok.json.objectValue?["state"] == "running", "on_load (the default) starts a PUT schedule at once")
        harness.fireNext()
        #expect(harness.service.state.faults.isEmpty)
    }

    @Test func aFailedStepIsJournaledAndTheScheduleGoesOn() throws {
        let harness = try Harness(schedule: """
            {"steps": [
              {"at": "1s", "apply": {"id": "bad", "type": "partition", "kind": "isolate", "node": "n9"}, "for": "1s"},
              {"at": "3s", "apply": {"id": "ok", "type": "stall"}}
            ]}
            """)
        harness.fireNext()
        harness.fireNext()
        harness.fireNext()
        let steps = harness.events().filter { $0.contains("schedule.step") }
        #expect(steps == [
            #"{"event":"schedule.step","step":0,"iteration":0,"action":"apply","fault":"bad","due":"1s","lateness_us":0,"result":"failed","error":"invalid_fault","message":"unknown node \"n9\" (known: n1, n2, n3)"}"#,
            #"{"event":"schedule.step","step":0,"iteration":0,"action":"clear","fault":"bad","automatic":true,"due":"2s","lateness_us":0,"result":"skipped","reason":"not active"}"#,
            #"{"event":"schedule.step","step":1,"iteration":0,"action":"apply","fault":"ok","due":"3s","lateness_us":0,"result":"ok"}"#,
        ])
    }

    @Test func aFaultClearedThroughTheAPIIsNotClearedAgainByStop() throws {
        let harness = try Harness(schedule: #"{"steps": [{"at": "1s", "apply": {"id": "s", "type": "stall"}}, {"at": "9s", "apply": {"id": "t", "type": "stall"}}]}"#)
        harness.fireNext()
        #expect(harness.call("DELETE", "/v1/faults/s").status == 204)
        #expect(harness.call("GET", "/v1/schedule").json.objectValue?["applied"] == [])
        let seq = harness.journal.lastSequence
        _ = harness.call("POST", "/v1/schedule/stop")
        #expect(harness.events(after: seq) == [#"{"event":"schedule.finished","reason":"stopped","steps_run":1}"#])
    }

    @Test func anRFC3339StartWaitsForTheInstant() throws {
        // The harness's realtime clock reads 2023-11-14T22:13:20Z at start; start 90 s later,
        // written with an offset.
        let harness = try Harness(schedule: #"{"start": "2023-11-14T23:14:50+01:00", "steps": [{"at": "1s", "apply": {"id": "s", "type": "stall"}}]}"#)
        let body = harness.call("GET", "/v1/schedule").json.objectValue
        #expect(body?["state"] == "waiting")
        #expect(body?["starts_at"] == "2023-11-14T22:14:50.000000Z")
        #expect(harness.service.scheduleDeadline == harness.clock.monotonic + 90_000_000_000)
        harness.fireNext(late: .milliseconds(2))
        #expect(harness.events().last == #"{"event":"schedule.started","start":"2023-11-14T23:14:50+01:00","steps":1,"timeline":1}"#)
        #expect(harness.service.scheduleDeadline == harness.clock.monotonic - 2_000_000 + 1_000_000_000)
    }

    @Test func rfc3339Parsing() {
        #expect(ScheduleJSON.epochNanoseconds(rfc3339: "1970-01-01T00:00:00Z") == 0)
        #expect(ScheduleJSON.epochNanoseconds(rfc3339: "2023-11-14T22:13:20.123456789Z") == 1_700_000_000_123_456_789)
        #expect(ScheduleJSON.epochNanoseconds(rfc3339: "2023-11-14t23:13:20.5+01:00") == 1_700_000_000_500_000_000)
        #expect(ScheduleJSON.epochNanoseconds(rfc3339: "2024-02-29T00:00:00-00:30") == 1_709_166_600_000_000_000)
        #expect(ScheduleJSON.epochNanoseconds(rfc3339: "2024-02-29T00:00:00") == nil)
        // Round trip with the journal's timestamps.
        let text = Timestamp.rfc3339(nanoseconds: 1_800_000_000_654_321_000)
        #expect(ScheduleJSON.epochNanoseconds(rfc3339: text) == 1_800_000_000_654_321_000)
    }
}
