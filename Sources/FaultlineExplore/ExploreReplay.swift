public import FaultlineConfig

/// `minimal.json`: the shrunk schedule as a config `schedule` object, with what is needed to run
/// it again — the trial time and the commands.
public struct ExploreReplay: Sendable, Hashable {
    public var seed: UInt64
    public var trialTime: Duration
    public var workload: [String]?
    public var check: [String]
    public var reset: [String]?
    public var steps: [ExploreStep]

    public init(spec: ExploreSpec, steps: [ExploreStep]) {
        seed = spec.seed
        trialTime = spec.trialTime
        workload = spec.workload
        check = spec.check
        reset = spec.reset
        self.steps = steps
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["seed"] = .unsignedInteger(seed)
        object["trial_time"] = .string(DurationParser.render(trialTime))
        if let workload { object["workload"] = .array(workload.map { .string($0) }) }
        object["check"] = .array(check.map { .string($0) })
        if let reset { object["reset"] = .array(reset.map { .string($0) }) }
        object["schedule"] = ExploreSchedule.json(steps)
        return .object(object)
    }

    public static func decode(jsonText: String) -> Result<ExploreReplay, ConfigErrors> {
        guard case .success(let value) = JSONParser.parse(jsonText), let object = value.objectValue else {
            return .failure(ConfigErrors([ConfigError(path: "$", message: "not a JSON object")]))
        }
        func strings(_ key: String) -> [String]? {
            object[key]?.arrayValue?.compactMap(\.stringValue)
        }
        guard let check = strings("check"), !check.isEmpty else {
            return .failure(ConfigErrors([ConfigError(path: "check", message: "missing or not an array of strings")]))
        }
        guard let time = object["trial_time"]?.stringValue.flatMap({ try? DurationParser.parse($0).get() }) else {
            return .failure(ConfigErrors([ConfigError(path: "trial_time", message: "missing or not a duration")]))
        }
        guard let schedule = object["schedule"] else {
            return .failure(ConfigErrors([ConfigError(path: "schedule", message: "missing required key")]))
        }
        let steps: [ExploreStep]
        switch ExploreSchedule.steps(from: schedule) {
        case .success(let decoded): steps = decoded
        case .failure(let problems): return .failure(problems)
        }
        let seed: UInt64
        switch object["seed"] {
        case .integer(let number)?: seed = UInt64(max(0, number))
        case .unsignedInteger(let number)?: seed = number
        default: seed = 0
        }
        let spec = ExploreSpec(seed: seed, trials: 1, steps: 1...1, trialTime: time, space: [], workload: strings("workload"),
                               check: check, reset: strings("reset"))
        return .success(ExploreReplay(spec: spec, steps: steps))
    }
}
