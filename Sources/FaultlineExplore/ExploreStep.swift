public import FaultlineConfig

/// One step of an explored schedule: a concrete fault, when it starts and how long it lasts.
/// Steps are what the shrinker removes and simplifies.
public struct ExploreStep: Sendable, Hashable {
    /// Offset from the start of the trial.
    public var at: Duration
    /// How long the fault stays in force.
    public var forDuration: Duration
    /// The fault object as the daemon takes it, without `id` (explore numbers the steps).
    public var fault: JSONObject
    /// How a partition was drawn (`isolate n1`), for the summary; nil for other faults.
    public var kind: String?

    public init(at: Duration, forDuration: Duration, fault: JSONObject, kind: String? = nil) {
        self.at = at
        self.forDuration = forDuration
        self.fault = fault
        self.kind = kind
    }

    public var type: String { fault["type"]?.stringValue ?? "?" }

    /// A partition's groups, nil for other faults.
    public var groups: [[String]]? {
        get {
            fault["groups"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
        }
        set {
            fault["groups"] = newValue.map { groups in .array(groups.map { .array($0.map { .string($0) }) }) }
        }
    }

    /// `partition [n1] / [n2, n3] for 400ms at 1.2s`, `latency api delay 300ms for 1s at 0s`.
    public var summary: String {
        let timing = "for \(DurationParser.render(forDuration)) at \(DurationParser.render(at))"
        if let groups {
            let cut = groups.map { "[\($0.joined(separator: ", "))]" }.joined(separator: " / ")
            let oneWay = fault["one_way"] == .bool(true) ? " one way" : ""
            let mode = fault["mode"]?.stringValue.map { $0 == "blackhole" ? "" : " mode \($0)" } ?? ""
            return "partition \(cut)\(oneWay)\(mode) \(timing)"
        }
        var words = [type, fault["route"]?.stringValue ?? "*"]
        for member in fault.members where !["type", "route"].contains(member.key) {
            words.append("\(member.key) \(member.value.stringValue ?? JSONWriter.render(member.value))")
        }
        return words.joined(separator: " ") + " " + timing
    }
}

/// A schedule of explored steps, rendered as the config's `schedule` object (SPEC §2) so it
/// can be run through `PUT /v1/schedule`, pasted into a config, or replayed.
public enum ExploreSchedule {
    /// `{"start": "on_load", "steps": [{"at": …, "apply": {"id": "explore-0", …}, "for": …}, …]}`,
    /// steps ordered by `at` (ids keep the order the steps were drawn in).
    public static func json(_ steps: [ExploreStep]) -> JSONValue {
        let ordered = steps.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        let rendered: [JSONValue] = ordered.map { index, step in
            var fault = JSONObject()
            fault["id"] = .string("explore-\(index)")
            for member in step.fault.members { fault[member.key] = member.value }
            return .object(JSONObject([
                ("at", .string(DurationParser.render(step.at))),
                ("apply", .object(fault)),
                ("for", .string(DurationParser.render(step.forDuration))),
            ]))
        }
        return .object(JSONObject([("start", "on_load"), ("steps", .array(rendered))]))
    }

    /// Reads back what `json` wrote (a replay file's `schedule`), or the problem.
    public static func steps(from value: JSONValue) -> Result<[ExploreStep], ConfigErrors> {
        guard let items = value.objectValue?["steps"]?.arrayValue else {
            return .failure(ConfigErrors([ConfigError(path: "schedule.steps", message: "missing or not an array")]))
        }
        var steps: [ExploreStep] = []
        for (index, item) in items.enumerated() {
            let path = "schedule.steps[\(index)]"
            guard let object = item.objectValue, var fault = object["apply"]?.objectValue,
                  let at = object["at"]?.stringValue.flatMap({ try? DurationParser.parse($0).get() }),
                  let lasting = object["for"]?.stringValue.flatMap({ try? DurationParser.parse($0).get() }) else {
                return .failure(ConfigErrors([ConfigError(path: path, message: "expected {\"at\", \"apply\", \"for\"}")]))
            }
            fault["id"] = nil
            steps.append(ExploreStep(at: at, forDuration: lasting, fault: fault))
        }
        return .success(steps)
    }
}
