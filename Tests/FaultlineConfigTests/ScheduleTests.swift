import FaultlineConfig
import FaultlineCore
import Testing

@Suite struct ScheduleTests {
    private func schedule(_ body: String) -> String {
        configWithFaults(#"[{"id": "static", "type": "stall"}]"#).replacing(
            #""faults": "#, with: #""schedule": \#(body), "faults": "#
        )
    }

    @Test(arguments: [
        (#"[]"#, ["schedule: expected an object, got array"]),
        (#"{}"#, ["schedule.steps: missing required key"]),
        (#"{"steps": [], "stop": "1s"}"#, ["schedule.steps: must have at least one step", "schedule.stop: unknown key"]),
        (#"{"start": "tomorrow", "steps": [{"at": "1s", "clear": "static"}]}"#,
         [#"schedule.start: "tomorrow" is not on_load, manual or an RFC 3339 time"#]),
        (#"{"start": "2026-02-29T10:00:00Z", "steps": [{"at": "1s", "clear": "static"}]}"#,
         [#"schedule.start: "2026-02-29T10:00:00Z" is not on_load, manual or an RFC 3339 time"#]),
        (#"{"start": "2026-11-24 10:00:00Z", "steps": [{"at": "1s", "clear": "static"}]}"#,
         [#"schedule.start: "2026-11-24 10:00:00Z" is not on_load, manual or an RFC 3339 time"#]),
        (#"{"start": "2026-11-24T10:00:00", "steps": [{"at": "1s", "clear": "static"}]}"#,
         [#"schedule.start: "2026-11-24T10:00:00" is not on_load, manual or an RFC 3339 time"#]),
        (#"{"steps": [{"at": "1s"}, {"at": "2s", "apply": {"type": "stall"}, "clear": "x"}, {"apply": {"type": "stall"}}]}"#, [
            #"schedule.steps[0]: needs "apply" or "clear""#,
            #"schedule.steps[1]: has both "apply" and "clear"; use one per step"#,
            "schedule.steps[2].at: missing required key",
        ]),
        (#"{"steps": [{"at": "5s", "apply": {"id": "cut", "type": "partition", "groups": [["n1"], []]}, "for": "20s"}]}"#,
         [#"schedule.steps[0].apply.groups[1]: must not be empty"#]),
        (#"{"steps": [{"at": "5s", "clear": "static", "for": "1s"}, {"at": "6s", "apply": {"type": "stall", "route": "zz"}, "for": "0s"}]}"#, [
            #"schedule.steps[0].for: only allowed with "apply""#,
            #"schedule.steps[1].apply.route: unknown route "zz""#,
            #"schedule.steps[1].for: must be greater than 0s, got "0s""#,
        ]),
        (#"{"steps": [{"at": "30s", "clear": "static"}, {"at": "10s", "clear": "nope"}, {"at": "20x", "clear": 1, "when": 1}]}"#, [
            #"schedule.steps[1].at: must not be earlier than the previous step (30s), got "10s""#,
            #"schedule.steps[2].at: "20x" is not a duration"#,
            "schedule.steps[2].clear: expected a string, got integer",
            "schedule.steps[2].when: unknown key",
            #"schedule.steps[1].clear: no fault with id "nope""#,
        ]),
        (#"{"steps": [{"at": "10s", "apply": {"id": "x", "type": "stall"}, "for": "50s"}], "repeat": {"every": "61s", "times": 0}}"#,
         ["schedule.repeat.times: must be at least 1, got 0"]),
        (#"{"steps": [{"at": "10s", "apply": {"id": "x", "type": "stall"}, "for": "50s"}], "repeat": {"every": "1m"}}"#, [
            "schedule.repeat.times: missing required key",
            #"schedule.repeat.every: must be longer than the steps it repeats (they run until 1m), got "1m""#,
        ]),
        (#"{"steps": [{"at": "10s", "clear": "static"}], "repeat": {"every": "0s", "times": 2, "jitter": "1s"}}"#, [
            #"schedule.repeat.every: must be greater than 0s, got "0s""#,
            "schedule.repeat.jitter: unknown key",
        ]),
    ])
    func errors(body: String, expected: [String]) {
        #expect(errorLines(schedule(body)) == expected)
    }

    @Test func validScheduleDecodes() throws {
        let config = try #require(decodedConfig(schedule(#"""
        {"start": "2026-11-24T10:00:00.5+01:00",
         "steps": [
           {"at": "0s", "clear": "static"},
           {"at": "5s", "apply": {"type": "latency", "route": "a", "delay": "50ms"}, "for": "10s"},
           {"at": "5s", "apply": {"id": "b-cut", "type": "reset", "route": ["b"]}},
           {"at": "1m", "clear": "b-cut"}
         ],
         "repeat": {"every": "1m0.001s", "times": 10}}
        """#)))
        #expect(config.schedule == ScheduleSpec(
            start: .at("2026-11-24T10:00:00.5+01:00"),
            steps: [
                .init(at: .zero, action: .clear("static")),
                .init(
                    at: .seconds(5),
                    action: .apply(FaultSpec(
                        id: "latency-step1", routes: .names(["a"]),
                        kind: .latency(delay: .milliseconds(50), jitter: .zero, distribution: .uniform)
                    )),
                    forDuration: .seconds(10)
                ),
                .init(at: .seconds(5), action: .apply(FaultSpec(id: "b-cut", routes: .names(["b"]), kind: .reset(after: .zero, afterBytes: nil)))),
                .init(at: .seconds(60), action: .clear("b-cut")),
            ],
            repeat: .init(every: .milliseconds(60_001), times: 10)
        ))
    }
}
