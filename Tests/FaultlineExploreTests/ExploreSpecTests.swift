import FaultlineConfig
@testable import FaultlineExplore
import Testing

@Suite struct ExploreSpecTests {
    static let specText = """
        {"seed": 7, "trials": 40, "steps": [1, 6], "trial_time": "10s",
         "space": [{"type": "partition", "kinds": ["isolate", "random_halves", "groups"], "for": ["100ms", "3s"]},
                   {"type": "latency", "route": "*", "delay": ["1ms", "500ms"], "for": ["100ms", "3s"]},
                   {"type": "abort", "route": "api", "status": [500, 503], "probability": [0.1, 1.0]}],
         "workload": ["./load.sh"], "check": ["./check.sh"], "reset": ["./reset.sh"],
         "confirm": 2, "shrink_time": "10m"}
        """

    @Test("SPEC §8's example decodes: ranges, choices and fixed values told apart")
    func specExample() throws {
        let spec = try ExploreSpec.decode(jsonText: Self.specText).get()
        #expect(spec.seed == 7 && spec.trials == 40 && spec.steps == 1...6 && spec.trialTime == .seconds(10))
        #expect(spec.check == ["./check.sh"] && spec.workload == ["./load.sh"] && spec.reset == ["./reset.sh"])
        #expect(spec.confirm == 2 && spec.shrinkTime == .seconds(600))
        #expect(spec.space.map(\.type) == ["partition", "latency", "abort"])
        #expect(spec.space[0].kinds == ["isolate", "random_halves", "groups"])
        #expect(spec.space[1].parameters.first?.value == .durations(.milliseconds(1), .milliseconds(500)))
        #expect(spec.space[2].parameters.map(\.key) == ["status", "probability"])
        #expect(spec.space[2].parameters[0].value == .choice([500, 503]))
        #expect(spec.space[2].parameters[1].value == .numbers(0.1, 1.0))
        #expect(spec.space[2].forRange == (.seconds(1), .seconds(5)), "no for: a tenth to a half of trial_time")
    }

    @Test("bad files get every problem with its path, including a fault the daemon would refuse")
    func errors() {
        let text = """
            {"trials": 0, "steps": [3, 1], "space": [{"type": "partition", "kinds": ["sideways"], "route": "x"},
             {"type": "latency", "delay": ["1ms", "2s"], "for": ["1s", "20s"]}, {"type": "latency", "delay": "soon"},
             {"type": "abort", "route": "api", "status": [500, 99]}, {"type": "latency", "delay": "1ms", "jitter": []}],
             "check": [], "bogus": 1}
            """
        guard case .failure(let problems) = ExploreSpec.decode(jsonText: text) else {
            Issue.record("decoded")
            return
        }
        let lines = problems.errors.map(\.description)
        #expect(lines.contains("bogus: unknown key"))
        #expect(lines.contains { $0.hasPrefix("trials: expected an integer in 1…100000") })
        #expect(lines.contains("steps: expected [MIN, MAX] with 1 <= MIN <= MAX <= 100"))
        #expect(lines.contains("trial_time: missing required key"))
        #expect(lines.contains("check: expected a non-empty array of strings (the program and its arguments)"))
        #expect(lines.contains { $0.hasPrefix("space[0].kinds[0]: unknown partition kind \"sideways\"") })
        #expect(lines.contains { $0.hasPrefix("space[0].route: partitions act on every route") })
        #expect(lines.contains("space[1].for: the longest 20s exceeds trial_time 10s"))
        #expect(lines.contains { $0.hasPrefix("space[2].delay:") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("space[3].status:") }, "every choice is checked, not only the first: \(lines)")
        #expect(lines.contains("space[4].jitter: an empty array gives nothing to choose from"))
    }

    @Test("trial i's schedule depends only on the seed, i, the space and the nodes")
    func deterministic() throws {
        let spec = try ExploreSpec.decode(jsonText: Self.specText).get()
        let generator = ScheduleGenerator(spec: spec, nodes: ["n3", "n1", "n2", "n1"])
        #expect(generator.nodes == ["n1", "n2", "n3"])
        for trial in 0..<20 {
            let steps = generator.schedule(trial: trial)
            #expect(steps == ScheduleGenerator(spec: spec, nodes: ["n1", "n2", "n3"]).schedule(trial: trial))
            #expect((1...6).contains(steps.count))
            for step in steps {
                #expect(step.at + step.forDuration <= spec.trialTime)
                let range = step.type == "abort" ? Duration.seconds(1)...Duration.seconds(5) : Duration.milliseconds(100)...Duration.seconds(3)
                #expect(range.contains(step.forDuration), "\(step.summary)")
                if let groups = step.groups {
                    #expect(groups.count >= 2 && groups.allSatisfy { !$0.isEmpty })
                    #expect(Set(groups.joined()).isSubset(of: ["n1", "n2", "n3"]))
                }
                if step.type == "abort" {
                    #expect([500, 503].contains(step.fault["status"]))
                    let probability = step.fault["probability"]?.doubleValue ?? -1
                    #expect(probability >= 0.1 && probability <= 1.0)
                }
            }
        }
        var other = spec
        other.seed = 8
        #expect((0..<5).map { ScheduleGenerator(spec: other, nodes: ["n1", "n2", "n3"]).schedule(trial: $0) }
                != (0..<5).map { generator.schedule(trial: $0) })
    }

    @Test("a schedule renders as the config's schedule object and reads back")
    func scheduleRoundTrip() throws {
        let spec = try ExploreSpec.decode(jsonText: Self.specText).get()
        let steps = ScheduleGenerator(spec: spec, nodes: ["n1", "n2"]).schedule(trial: 3)
        let json = ExploreSchedule.json(steps)
        // The daemon's own decoder takes it as a config schedule.
        let config: JSONValue = ["version": 1, "routes": [["name": "api", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1",
                                                            "protocol": "http", "from": "n1", "to": "n2"]], "schedule": json]
        if case .failure(let problems) = ConfigDecoder.decode(config) { Issue.record("\(problems)") }
        let back = try ExploreSchedule.steps(from: json).get()
        #expect(Set(back.map(\.fault)) == Set(steps.map(\.fault)))
        #expect(back.map(\.at) == back.map(\.at).sorted())
    }
}
